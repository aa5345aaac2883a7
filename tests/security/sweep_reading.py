"""How the secret sweep (test_secret_sweep.py) reads the server: event streams in a thread,
every GET route's answer with headers, the UI's GET routes, their paths filled with known ids."""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import re
import threading
import time
from typing import Any

import httpx
from fastapi.routing import APIRoute

import paddock.web.ui
from tests.e2e.server import ServerProcess

STREAM_READ_SECONDS = 1.5  # how long a live stream (SSE) is read before the sweep moves on


class StreamReader:
    """The raw text of a server-sent event stream, read in a thread until the block ends."""

    def __init__(self, server: ServerProcess, path: str, params: dict[str, Any]) -> None:
        self.server = server
        self.path = path
        self.params = params
        self.chunks: list[str] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        try:
            with (
                httpx.Client(
                    base_url=self.server.url, headers=self.server.auth, timeout=30
                ) as client,
                client.stream("GET", self.path, params=self.params) as response,
            ):
                assert response.status_code == 200, response.read()
                for chunk in response.iter_text():
                    self.chunks.append(chunk)
                    if self._stop.is_set():
                        return
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> StreamReader:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(30)  # heartbeats wake the reader every HEARTBEAT seconds

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def types(self) -> set[str]:
        return set(re.findall(r"^event: (\S+)$", self.text, re.MULTILINE))


def fetch(client: httpx.Client, path: str, params: dict[str, str]) -> tuple[int, str]:
    """Status and everything a GET answers (headers and body). A live stream (an SSE route)
    is read for STREAM_READ_SECONDS, or until it stays silent that long."""
    live = path.endswith("/stream") or path == "/api/events"
    timeout = httpx.Timeout(60, read=STREAM_READ_SECONDS) if live else httpx.Timeout(60)
    deadline = time.monotonic() + STREAM_READ_SECONDS
    parts: list[str] = []
    with client.stream("GET", path, params=params, timeout=timeout) as response:
        try:
            for chunk in response.iter_text():
                parts.append(chunk)
                if live and time.monotonic() > deadline:
                    break
        except httpx.ReadTimeout:
            assert live, f"GET {path} timed out"
        head = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        return response.status_code, head + "\n\n" + "".join(parts)


def ui_get_routes() -> list[str]:
    """Every GET route of every UI router (paddock/web/ui/*.py)."""
    paths = []
    for info in pkgutil.iter_modules(paddock.web.ui.__path__):
        router = getattr(importlib.import_module(f"paddock.web.ui.{info.name}"), "router", None)
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute) and "GET" in route.methods:
                paths.append(route.path)
    return sorted(set(paths))


def filled(template: str, ids: dict[str, list[str]]) -> list[str]:
    """The route with its path parameters filled in every way the known ids allow."""
    names = re.findall(r"\{(\w+)(?::\w+)?\}", template)
    missing = [name for name in names if name not in ids]
    assert not missing, f"the sweep has no ids for {missing} of {template}: add them"
    paths = []
    for values in itertools.product(*(ids[name] for name in names)):
        path = template
        for name, value in zip(names, values, strict=True):
            path = re.sub(r"\{" + name + r"(?::\w+)?\}", value, path, count=1)
        paths.append(path)
    return paths


def leaks(text: str, planted: dict[str, str]) -> list[str]:
    return [where for where, value in planted.items() if value in text]
