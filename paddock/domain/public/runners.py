"""The public read models of runners: never their token's hash; a token only once, at creation."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from paddock.domain.public.model import PublicModel


class CapacityPublic(PublicModel):
    slots: int = Field(description="Attempts it runs at once")
    cpus: int
    memory_mb: int
    labels: list[str]


class RunnerPublic(PublicModel):
    """A machine a team's Paddock runs attempts on (docs/scale-out.md)."""

    id: str
    name: str
    labels: list[str]
    created_at: datetime
    revoked: bool
    online: bool = Field(description="It beat within the last lost_after_seconds")
    capacity: CapacityPublic | None = Field(description="What its last beat said (online only)")
    last_beat_at: datetime | None


class RunnerCreatedPublic(PublicModel):
    runner: RunnerPublic
    token: str = Field(description="The runner's token: shown this once, stored only hashed")


class RunnerSessionPublic(PublicModel):
    """What a runner gets for its token: its own Redis user, made for this session."""

    runner_id: str
    redis_url: str = Field(description="The Redis between the machines, without credentials")
    redis_user: str
    redis_password: str
    heartbeat_seconds: float
    lost_after_seconds: float
