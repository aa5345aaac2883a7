"""/api/health."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from paddock import __version__
from paddock.web.deps import EngineDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    running_processes: int


@router.get("/health", operation_id="health")
async def health(engine: EngineDep) -> Health:
    db = engine.ctx.db
    return Health(
        status="ok",
        version=__version__,
        database=db.engine.dialect.name,
        running_processes=len(engine.processes.running_ids()),
    )
