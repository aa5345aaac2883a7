"""Opening the signed-in URL in the user's browser once the server listens, where a desktop
exists (never on a headless machine: a text-mode browser would take over the terminal)."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
import time
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def has_desktop() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_when_listening(base: str, url: str, timeout: float = 30.0) -> None:
    """Open `url` in a thread as soon as `base` accepts connections; give up after `timeout`."""
    if not has_desktop():
        return
    parts = urlsplit(base)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)

    def wait_then_open() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(address, timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            return
        import webbrowser

        webbrowser.open(url)

    threading.Thread(target=wait_then_open, name="open-browser", daemon=True).start()
