"""Reading an agent process's entries: a page from the store, or the store then live."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from sqlalchemy.orm import Session

from paddock.domain.entries import AgentEntry, EntryKind
from paddock.runtime.events import SYNC
from paddock.services.context import Context
from paddock.services.processes.log_follow import END, EndOfLog
from paddock.store import entries as store
from paddock.store import processes as process_store

PAGE = 1000


class EntryService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def read(
        self,
        process_id: str,
        *,
        after: int = 0,
        limit: int = PAGE,
        kinds: Sequence[EntryKind] | None = None,
    ) -> list[AgentEntry]:
        def query(session: Session) -> list[AgentEntry]:
            process_store.get_process(session, process_id)  # 404 for an unknown process
            return store.read_entries(session, process_id, after=after, limit=limit, kinds=kinds)

        return await self.ctx.db.run(query)

    async def follow(
        self, process_id: str, *, after: int = 0, heartbeat: float = 15.0
    ) -> AsyncIterator[list[AgentEntry] | EndOfLog | None]:
        """Entries after `after` from the store, then live: no gap, no duplicate, then END.

        Entries are stored before they are published, so subscribing first and reading the
        store second cannot miss one. Yields None when `heartbeat` seconds pass quietly.
        """
        last = after
        while True:
            sink = self.ctx.entries.get(process_id)
            subscription, closed = sink.subscribe() if sink is not None else (None, True)
            try:
                while page := await self.read(process_id, after=last):
                    last = page[-1].seq
                    yield page
                if subscription is None or closed:
                    yield END
                    return
                while True:
                    try:
                        first = await subscription.get(heartbeat)
                    except TimeoutError:
                        yield None
                        continue
                    items = [first, *subscription.drain()]
                    if SYNC in items:  # what came before it was dropped: re-read the store
                        break
                    fresh = [e for e in items if isinstance(e, AgentEntry) and e.seq > last]
                    if fresh:
                        last = fresh[-1].seq
                        yield fresh
                    if None in items:
                        yield END
                        return
            finally:
                if subscription is not None:
                    subscription.close()
