"""The link that signs a browser in: printed when the server starts, and opened in the user's
browser once it listens, where a desktop exists (never on a headless machine: a text-mode
browser would take over the terminal)."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

import typer

from paddock.cli.client import server_url
from paddock.config import Settings
from paddock.domain.origins import is_loopback_name
from paddock.services.server_access import WeakTokenError, load_token


def announce(settings: Settings) -> None:
    """Say where Paddock listens and print the sign-in link (opening it where a desktop
    exists). A configured token too short to guard the API stops the start here."""
    try:
        token = load_token(settings)
    except WeakTokenError as exc:
        typer.echo(f"paddock: refusing to start: {exc}", err=True)
        raise typer.Exit(2) from None
    base = server_url(settings, None)
    link = f"{base}/?token={token}"
    # click's styling, not rich: the server never imports rich (see cli/main.py's _console).
    typer.echo(f"Paddock on {base} (data in {settings.storage.data_dir}; API docs at /api/docs)")
    typer.echo("Open this link to sign in (it holds the API token; `paddock token` prints it):")
    typer.echo("    " + typer.style(link, bold=True))
    if not is_loopback_name(settings.server.host):
        typer.echo(
            f"paddock: listening on {settings.server.host}, beyond this machine: every request "
            "needs the token, which travels in clear over plain HTTP; put a TLS proxy in front "
            "(docs/security.md)",
            err=True,
        )
    if settings.server.open_browser:
        open_when_listening(base, link)


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
