"""The screenshot helper a build runs in its sandbox (runtime/browser_shot.py), on its own: a
browser started before the page is known, sent the URL on stdin, writes the picture."""

from __future__ import annotations

import struct
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from paddock.runtime import browser_shot

HELPER = [sys.executable, browser_shot.__file__]
PNG = b"\x89PNG\r\n\x1a\n"


def shoot(out: Path, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [*HELPER, str(out)], check=False, input=stdin, capture_output=True, timeout=120
    )
    return done


class SlowSite(BaseHTTPRequestHandler):
    """A page that turns red once a slow fetch it makes after loading comes back."""

    def do_GET(self) -> None:
        if self.path == "/more":
            time.sleep(0.5)
            body = b"more"
        else:
            body = (
                b"<html><body style='background:#fff'><script>"
                b"addEventListener('load', () => fetch('/more').then(r => r.text()).then(() => {"
                b"document.body.style.background = '#f00'}))</script></body></html>"
            )
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def first_pixel(png: bytes) -> tuple[int, int, int]:
    """The top-left pixel of an 8-bit RGB(A) PNG (a first row's first pixel is stored raw,
    whatever the row's filter)."""
    at, data = 8, b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        if kind == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    raw = zlib.decompress(data)
    return raw[1], raw[2], raw[3]


def test_the_page_sent_later_is_pictured_after_its_own_fetches(tmp_path: Path) -> None:
    """What the page fetches after it loaded is in the picture: the helper waits for the
    requests in flight (as --virtual-time-budget did), here half a second of them."""
    site = ThreadingHTTPServer(("127.0.0.1", 0), SlowSite)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        out = tmp_path / "home.png"
        done = shoot(out, f"http://127.0.0.1:{site.server_port}/\n".encode())
    finally:
        site.shutdown()
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    picture = out.read_bytes()
    assert picture.startswith(PNG)
    assert struct.unpack(">II", picture[16:24]) == (browser_shot.WIDTH, browser_shot.HEIGHT)
    assert first_pixel(picture) == (255, 0, 0)


def test_no_url_is_no_picture_and_no_failure(tmp_path: Path) -> None:
    """A build that ended before its preview ran tells its screenshot there is no page."""
    out = tmp_path / "home.png"
    done = shoot(out, b"")
    assert done.returncode == 0
    assert b"no page to picture" in done.stderr
    assert not out.exists()


def test_a_page_that_cannot_load_is_exit_5_with_why(tmp_path: Path) -> None:
    out = tmp_path / "home.png"
    done = shoot(out, b"http://127.0.0.1:1/\n")  # a port browsers refuse outright
    assert done.returncode == 5
    assert b"the browser failed" in done.stderr
    assert not out.exists()
