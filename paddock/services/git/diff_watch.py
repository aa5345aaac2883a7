"""Telling watchers that an attempt's diff changed: `attempt.diff_changed` events.

While anyone watches an attempt (the workspace page, a stream), its worktree is looked at every
`diff_watch_seconds`: git's status of the changed paths with their sizes and times, and HEAD.
A change publishes one event (changes within an interval are one: the debounce). Asking git
honours .gitignore and needs no file-system watch per directory (node_modules would take
thousands).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from paddock.domain.errors import PaddockError
from paddock.domain.events import DiffChanged, EventType
from paddock.runtime.git.diff import worktree_fingerprint
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.context import Context
from paddock.store import attempts as attempt_store

log = logging.getLogger("paddock.diffs")


@dataclass
class _Watch:
    count: int = 0
    task: asyncio.Task[None] | None = None
    stopped: asyncio.Event = field(default_factory=asyncio.Event)


class DiffWatch:
    def __init__(self, ctx: Context, interval: float = 1.5) -> None:
        self.ctx = ctx
        self.interval = interval
        self._watches: dict[str, _Watch] = {}

    @contextlib.asynccontextmanager
    async def watching(self, attempt_id: str) -> AsyncIterator[None]:
        watch = self._watches.setdefault(attempt_id, _Watch())
        watch.count += 1
        if watch.task is None:
            watch.task = asyncio.create_task(self._poll(attempt_id))
        try:
            yield
        finally:
            watch.count -= 1
            if watch.count == 0:
                del self._watches[attempt_id]
                watch.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch.task

    async def _poll(self, attempt_id: str) -> None:
        last: str | None = None
        try:  # once: the attempt's worktree and project do not change while it is watched
            attempt = await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
            worktree = await attempt_worktree(self.ctx, attempt)
        except PaddockError as exc:
            log.debug("not watching attempt %s: %s", attempt_id, exc)
            return
        while True:
            try:
                now = await worktree_fingerprint(worktree)
            except PaddockError as exc:  # the worktree went: nothing to watch
                log.debug("not watching attempt %s: %s", attempt_id, exc)
                return
            if last is not None and now != last:
                self.ctx.publish(
                    EventType.attempt_diff_changed, attempt.project_id, DiffChanged(attempt_id)
                )
            last = now
            await asyncio.sleep(self.interval)

    async def close(self) -> None:
        for watch in list(self._watches.values()):
            if watch.task is not None:
                watch.task.cancel()
