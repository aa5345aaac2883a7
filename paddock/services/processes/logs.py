"""Reading a process's log: pages (with search), its end, the whole of it as text, and following
it live (services/processes/log_follow.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from paddock.domain.entities import LogLine, Process
from paddock.domain.logs import LogBatch
from paddock.domain.states import LogStream
from paddock.services.context import Context
from paddock.services.processes.log_follow import EndOfLog, follow_batches, follow_logs
from paddock.store import logs as log_store
from paddock.store import processes as process_store

DOWNLOAD_PAGE = 10_000  # lines read from the store at a time while a log is downloaded


class LogService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def process(self, process_id: str) -> Process:
        """The process whose log is asked for (404 `process_not_found` for an unknown one)."""
        return await self.ctx.db.run(lambda s: process_store.get_process(s, process_id))

    async def read(
        self,
        process_id: str,
        *,
        after: int = 0,
        limit: int = 1000,
        stream: LogStream | None = None,
        q: str | None = None,
    ) -> list[LogLine]:
        await self.process(process_id)
        return await self.ctx.db.run(
            lambda s: log_store.read_lines(
                s, process_id, after=after, limit=limit, stream=stream, q=q
            )
        )

    async def tail(self, process_id: str, count: int) -> list[LogLine]:
        """The last `count` stored lines of a process's log."""
        proc = await self.process(process_id)
        after = max(0, proc.line_count - count)
        return await self.ctx.db.run(
            lambda s: log_store.read_lines(s, process_id, after=after, limit=count)
        )

    def follow(
        self, process_id: str, *, after: int = 0, heartbeat: float = 15.0
    ) -> AsyncIterator[list[LogLine] | EndOfLog | None]:
        """Lines after `after` from the store, then live: no gap, no duplicate, then END.
        Yields None when `heartbeat` seconds pass with nothing to send."""
        return follow_logs(self.ctx, process_id, after=after, heartbeat=heartbeat)

    def follow_batches(
        self, process_id: str, *, after: int = 0, heartbeat: float = 15.0
    ) -> AsyncIterator[list[LogBatch] | EndOfLog | None]:
        """follow, as consecutive batches (no object per line): what the live stream sends."""
        return follow_batches(self.ctx, process_id, after=after, heartbeat=heartbeat)

    async def download(self, process_id: str) -> AsyncIterator[bytes]:
        """The whole log as text, a page at a time (404 before the first byte)."""
        await self.process(process_id)
        return self._pages(process_id)

    async def _pages(self, process_id: str) -> AsyncIterator[bytes]:
        after = 0
        while True:
            read = partial(
                log_store.read_lines, process_id=process_id, after=after, limit=DOWNLOAD_PAGE
            )
            lines = await self.ctx.db.run(read)
            if not lines:
                return
            after = lines[-1].seq
            # A line cut at the length limit goes on in the next one: join them back.
            yield "".join(line.text + ("" if line.continued else "\n") for line in lines).encode()
