"""What the outside world may ask about sandboxes: which providers run here, which is the
default, whether limits hold, who sandboxes run as, and what a process used (its samples)."""

from __future__ import annotations

import anyio.to_thread
from sqlalchemy.orm import Session

from paddock.domain.entities import ResourceSample
from paddock.domain.sandbox import Provider
from paddock.services.context import Context
from paddock.store import processes as process_store
from paddock.store import samples as sample_store


class SandboxService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def problems(self) -> dict[Provider, str | None]:
        """Why each provider cannot run here (None: it can). Probed once; the first probe may
        ask the container engine, so not on the event loop."""
        sandboxes = self.ctx.sandboxes
        return {p: await anyio.to_thread.run_sync(sandboxes.problem, p) for p in Provider}

    async def default_provider(self) -> Provider:
        return await anyio.to_thread.run_sync(self.ctx.sandboxes.resolve, None)

    def limits_enforced(self, provider: Provider) -> bool:
        """Whether memory, CPU and pids limits hold for `provider` on this machine."""
        return self.ctx.sandboxes.limits_enforced(provider)

    def sandbox_uid(self) -> int | None:
        """The uid sandboxes run as on the host (None: the server's own, run by a user)."""
        return self.ctx.sandboxes.sandbox_uid()

    async def samples(self, process_id: str, after: int = 0) -> list[ResourceSample]:
        """A process's resource use over time (404 for an unknown process)."""

        def query(session: Session) -> list[ResourceSample]:
            process_store.get_process(session, process_id)  # 404 for an unknown process
            return sample_store.read_samples(session, process_id, after=after)

        return await self.ctx.db.run(query)

    async def latest_samples(self, process_ids: list[str]) -> dict[str, ResourceSample]:
        """The newest sample of each process (for lists of processes)."""
        return await self.ctx.db.run(lambda s: sample_store.latest_samples(s, process_ids))
