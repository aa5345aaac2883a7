"""Whether the server is well: what `/api/health` answers."""

from __future__ import annotations

from dataclasses import dataclass

from paddock import __version__
from paddock.services.context import Context
from paddock.services.processes.processes import ProcessService


@dataclass(frozen=True, slots=True)
class Health:
    status: str
    version: str
    database: str  # the database's dialect: sqlite or postgresql
    running_processes: int


class HealthService:
    def __init__(self, ctx: Context, processes: ProcessService) -> None:
        self.ctx = ctx
        self.processes = processes

    def check(self) -> Health:
        return Health(
            status="ok",
            version=__version__,
            database=self.ctx.db.engine.dialect.name,
            running_processes=len(self.processes.running_ids()),
        )
