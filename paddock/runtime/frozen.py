"""What the server made to start, frozen out of the garbage collector's passes.

Modules, routes, models and the engine live as long as the server does: frozen, the
collector's full passes skip them (they walked all of them, ~150 ms each under load, the API's
worst latency: docs/reliability.md). How many were frozen is counted once, here: CPython counts
them by walking them all (~30 ms for ~260,000), too slow for every scrape of /metrics."""

from __future__ import annotations

import gc

_frozen = 0


def freeze_what_started() -> None:
    global _frozen
    gc.collect()
    gc.freeze()
    _frozen = gc.get_freeze_count()


def frozen_objects() -> int:
    """How many objects `freeze_what_started` froze (0 before it ran)."""
    return _frozen
