"""/api/health."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from paddock.web.deps import HealthDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    running_processes: int


@router.get("/health", operation_id="health")
async def health(health: HealthDep) -> Health:
    found = health.check()
    return Health(
        status=found.status,
        version=found.version,
        database=found.database,
        running_processes=found.running_processes,
    )
