"""Running the server under uvicorn, with a stop that always ends.

On SIGTERM (or SIGINT) uvicorn stops accepting, gives open requests `timeout_graceful_shutdown`
seconds, then runs the app's shutdown (Engine.close, itself bounded by CLOSE_TIMEOUT_S), and
exits. Every step is bounded, yet a step could still hang on something outside them (a thread
stuck in a call that never returns): so the first signal also arms a watchdog that ends the
process once the whole grace period has passed, whatever still runs; a second SIGTERM or SIGINT
ends it at once. What either cuts short (a process not yet stopped) is in a cgroup the next
start reaps.

The watchdog is a daemon thread; should a thread hold the GIL so that it cannot run, the
kernel's own alarm (SIGALRM, whose default action ends the process) follows a few seconds later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from paddock.runtime.frozen import freeze_what_started
from paddock.services.engine import CLOSE_TIMEOUT_S

log = logging.getLogger("paddock")

MARGIN_S = 5.0  # after the graceful steps' own bounds, before the watchdog ends the process
ALARM_AFTER_S = 5  # after the watchdog, before the kernel's alarm does


def grace_period(config: uvicorn.Config) -> float:
    """How long after a first SIGTERM the process may live at most."""
    return float(config.timeout_graceful_shutdown or 0) + CLOSE_TIMEOUT_S + MARGIN_S


class BoundedServer(uvicorn.Server):
    """uvicorn's server, whose stop is bounded (see the module's docstring)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.grace_s = grace_period(config)
        self._watchdog: threading.Timer | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        freeze_what_started()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        name = signal.Signals(sig).name
        if self._watchdog is not None:
            _hard_exit(sig, f"a second {name}: stopping at once")
        reason = f"the server did not stop within {self.grace_s:.0f} s of {name}: exiting now"
        self._watchdog = threading.Timer(self.grace_s, _hard_exit, args=(sig, reason))
        self._watchdog.daemon = True
        self._watchdog.start()
        signal.alarm(int(self.grace_s) + ALARM_AFTER_S)
        super().handle_exit(sig, frame)


def _hard_exit(sig: int, reason: str) -> None:
    log.error("%s", reason)
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(128 + sig)


def run_server(app: Any, **options: Any) -> None:
    """`uvicorn.run(app, **options)` (one process, no reload), stopped within its grace period."""
    config = uvicorn.Config(app, **options)
    config.load_app()
    server = BoundedServer(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)  # as uvicorn.run: the server did not start


class LazyWebSockets(asyncio.Protocol):
    """uvicorn's WebSocket protocol (websockets' sans-I/O one), imported when a connection
    first asks to upgrade: a server whose previews never use WebSockets never loads it."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

        return WebSocketsSansIOProtocol(*args, **kwargs)
