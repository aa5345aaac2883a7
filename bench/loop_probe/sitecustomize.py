"""What holds the server's event loop: loaded into the server by a bench run with
`--env PYTHONPATH=bench/loop_probe`, it writes to $LOOP_PROBE_LOG (default
/tmp/loop-probe-<pid>.log) every callback of the loop that ran longer than
$LOOP_PROBE_MS (default 15) — with the task's coroutine where it is a task's step — and every
garbage collection longer than 10 ms. A bench tool (docs/reliability.md, the soak's "API p99"):
the server never loads it otherwise."""

from __future__ import annotations

import asyncio.events
import gc
import os
import time
from typing import Any

_LIMIT = float(os.environ.get("LOOP_PROBE_MS", "15")) / 1000
_out = open(  # noqa: SIM115 - open for the process's life
    os.environ.get("LOOP_PROBE_LOG", f"/tmp/loop-probe-{os.getpid()}.log"), "a", buffering=1
)
_run = asyncio.events.Handle._run


def _describe(handle: asyncio.events.Handle) -> str:
    callback: Any = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        return f"task {task.get_name()} {getattr(coro, '__qualname__', coro)}"
    return repr(callback)[:200]


def _timed(self: asyncio.events.Handle) -> None:
    started = time.perf_counter()
    _run(self)
    took = time.perf_counter() - started
    if took > _LIMIT:
        _out.write(f"{time.time():.3f} loop {took * 1000:.1f} ms {_describe(self)}\n")


_collection_started = 0.0


def _collection(phase: str, info: dict[str, int]) -> None:
    global _collection_started
    if phase == "start":
        _collection_started = time.perf_counter()
        return
    took = time.perf_counter() - _collection_started
    if took > 0.01:
        _out.write(
            f"{time.time():.3f} gc gen{info['generation']} {took * 1000:.1f} ms "
            f"collected {info['collected']}\n"
        )


asyncio.events.Handle._run = _timed  # type: ignore[method-assign]
gc.callbacks.append(_collection)
