"""One screenshot by a headless Chromium started before its page exists: run inside a sandbox
(`python3 -c`, the standard library only, nothing of Paddock's importable there).

Chromium starts at once and is driven over its DevTools pipe (`--remote-debugging-pipe`: JSON
messages ended by NUL, written to its descriptor 3, read from its descriptor 4), a blank page
ready at the size of the picture. The page's URL comes on stdin, one line, when the caller has
it; the start-up (most of a cold screenshot's time) is then behind it. The page loads, the
requests it has in flight are waited for (at most SETTLE_SECONDS after it was asked for), a
frame is drawn, and the PNG is written to argv[1].

Exit 0 with the picture written, or when no URL came (end-of-file: the page never came to
be); 3: no Chromium here; 5: the browser failed or took longer than DEADLINE_SECONDS.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WIDTH, HEIGHT = 1280, 800
SETTLE_SECONDS = 5.0  # the page's own fetches, as --virtual-time-budget=5000 allowed
DEADLINE_SECONDS = 60.0  # any one answer of the browser
CLOSE_SECONDS = 2.0  # Browser.close takes tens of milliseconds
DRAWN = "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


class BrowserFailed(Exception):
    pass


class DevTools:
    """The browser's end of the pipe: calls answered by id, events kept until looked at."""

    def __init__(self, to_browser: int, from_browser: int) -> None:
        self._out = to_browser
        self._in = from_browser
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._out, data) :]
        return self._next_id

    def call(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        wanted = self.send(method, params, session)
        while True:
            message = self.read(time.monotonic() + DEADLINE_SECONDS)
            if message is None:
                raise BrowserFailed(f"{method}: no answer")
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserFailed(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def read(self, until: float) -> dict[str, Any] | None:
        """The next message, or None once `until` (a monotonic time) has passed."""
        while b"\0" not in self._buffer:
            left = until - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                return None
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise BrowserFailed("the browser closed its pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def next_event(self, until: float) -> dict[str, Any] | None:
        if self.events:
            return self.events.pop(0)
        message = self.read(until)
        while message is not None and "method" not in message:
            message = self.read(until)
        return message


def start_browser(binary: str, said: int) -> tuple[subprocess.Popen[bytes], DevTools]:
    """Chromium, its stderr to `said` (told only when it fails: it is chatty)."""
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()

    def pipes_at_3_and_4() -> None:
        # Out of the way first: one of the four may already be 3 or 4.
        reading, writing = os.dup(to_browser_r), os.dup(from_browser_w)
        os.dup2(reading, 3)
        os.dup2(writing, 4)

    browser = subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",  # inside Paddock's sandbox, where it could not make its own
            "--disable-gpu",
            "--no-first-run",
            # Nothing of its own on the network: a sandbox's is closed, and each refused try
            # costs its start-up.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
            f"--user-data-dir={tempfile.mkdtemp()}",
            "about:blank",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=said,
        pass_fds=(3, 4),
        preexec_fn=pipes_at_3_and_4,  # noqa: PLW1509 (this script runs no thread)
        start_new_session=True,
    )
    os.close(to_browser_r)
    os.close(from_browser_w)
    return browser, DevTools(to_browser_w, from_browser_r)


def blank_page(tools: DevTools) -> str:
    target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session: str = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    tools.call("Page.enable", session=session)
    tools.call("Network.enable", session=session)
    size = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
    tools.call("Emulation.setDeviceMetricsOverride", size, session=session)
    return session


def load(tools: DevTools, session: str, url: str) -> None:
    """The page loaded and its requests in flight ended (or SETTLE_SECONDS passed)."""
    asked = time.monotonic()
    tools.events.clear()
    navigated = tools.call("Page.navigate", {"url": url}, session=session)
    if navigated.get("errorText"):
        raise BrowserFailed(f"{url}: {navigated['errorText']}")
    pending: set[str] = set()
    loaded = False
    while not (loaded and not pending):
        event = tools.next_event(asked + SETTLE_SECONDS)
        if event is None:
            if not loaded:
                raise BrowserFailed("the page did not load")
            return  # still fetching after the budget: the picture is taken as it is
        method, params = event["method"], event.get("params", {})
        if method == "Network.requestWillBeSent":
            pending.add(params["requestId"])
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            pending.discard(params["requestId"])
        elif method == "Page.loadEventFired":
            loaded = True


def screenshot(tools: DevTools, session: str, url: str) -> bytes:
    load(tools, session, url)
    tools.call("Runtime.evaluate", {"expression": DRAWN, "awaitPromise": True}, session=session)
    shot = tools.call("Page.captureScreenshot", {"format": "png"}, session=session)
    return base64.b64decode(shot["data"])


def end(browser: subprocess.Popen[bytes], tools: DevTools) -> None:
    """The browser closed by its own word, which ends its helper processes too (some are in
    sessions of their own); killed when it does not end at once."""
    with contextlib.suppress(OSError):
        tools.send("Browser.close")
    try:
        browser.wait(CLOSE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(browser.pid, signal.SIGKILL)
        browser.wait()


def main(out: str) -> int:
    binary = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if binary is None:
        print("no Chromium here: no screenshot", file=sys.stderr)
        return 3
    with tempfile.TemporaryFile() as said:
        browser, tools = start_browser(binary, said.fileno())
        begun = time.monotonic()
        try:
            session = blank_page(tools)
            ready = time.monotonic()
            url = sys.stdin.readline().strip()
            if not url:  # the page never came to be (the build ended before its preview)
                print("no page to picture", file=sys.stderr)
                return 0
            asked = time.monotonic()
            picture = screenshot(tools, session, url)
            print(
                f"browser ready in {ready - begun:.2f} s, the page came {asked - begun:.2f} s "
                f"after the start, pictured {time.monotonic() - asked:.2f} s later",
                file=sys.stderr,
            )
        except BrowserFailed as exc:
            said.seek(0)
            tail = said.read().decode(errors="replace").splitlines()[-20:]
            print("\n".join([*tail, f"the browser failed: {exc}"]), file=sys.stderr)
            return 5
        finally:
            end(browser, tools)
    with open(out, "wb") as fh:
        fh.write(picture)
    print(f"the browser closed {time.monotonic() - begun:.2f} s after the start", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
