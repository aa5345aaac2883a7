"""Runners, seen from the control plane (docs/scale-out.md): made with a token shown once,
listed with their last beat, revoked; a runner opens a session with its token and gets its own
credentials for the Redis between the machines."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from paddock.domain.errors import Conflict, Unauthorized
from paddock.domain.runners import (
    HEARTBEAT_S,
    LOST_AFTER_S,
    Capacity,
    Runner,
    check_labels,
    check_runner_name,
    new_runner_token,
    token_hash,
)
from paddock.runtime.redis_url import without_credentials
from paddock.runtime.runner_access import RunnerAccess, runner_user
from paddock.services.context import Context
from paddock.store import runners as store


@dataclass(frozen=True, slots=True)
class RunnerState:
    runner: Runner
    capacity: Capacity | None  # None: offline (no beat within LOST_AFTER_S)
    last_beat_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunnerSession:
    runner_id: str
    redis_url: str
    redis_user: str
    redis_password: str
    heartbeat_seconds: float = HEARTBEAT_S
    lost_after_seconds: float = LOST_AFTER_S


class RunnerService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._access: RunnerAccess | None = None

    def _cluster(self) -> tuple[str, RunnerAccess]:
        url = self.ctx.settings.cluster.redis_url
        if url is None:
            raise Conflict(
                "runners need a team's setup: set cluster_redis_url (docs/scale-out.md)",
                code="cluster_not_configured",
            )
        if self._access is None:
            self._access = RunnerAccess(url.get_secret_value())
        return url.get_secret_value(), self._access

    async def create(self, name: str, labels: list[str]) -> tuple[Runner, str]:
        """A new runner and its token (the only time the token is shown)."""
        self._cluster()
        name, labels = check_runner_name(name), check_labels(labels)
        token = new_runner_token()
        runner = await self.ctx.db.run(
            partial(store.create, name=name, labels=labels, token_hash=token_hash(token))
        )
        return runner, token

    async def list_all(self) -> list[RunnerState]:
        runners = await self.ctx.db.run(store.list_runners)
        if self.ctx.settings.cluster.redis_url is None:
            return [RunnerState(r, None, None) for r in runners]
        _url, access = self._cluster()
        beats = await access.beats([r.id for r in runners if not r.revoked])
        return [self._state(r, beats.get(r.id)) for r in runners]

    async def get(self, runner_id: str) -> RunnerState:
        runner = await self.ctx.db.run(partial(store.get, runner_id=runner_id))
        if runner.revoked or self.ctx.settings.cluster.redis_url is None:
            return RunnerState(runner, None, None)
        _url, access = self._cluster()
        return self._state(runner, (await access.beats([runner.id])).get(runner.id))

    @staticmethod
    def _state(runner: Runner, beat: tuple[Capacity, float] | None) -> RunnerState:
        if beat is None:
            return RunnerState(runner, None, None)
        return RunnerState(runner, beat[0], datetime.fromtimestamp(beat[1], UTC))

    async def revoke(self, runner_id: str) -> RunnerState:
        """The runner's token stops working and its Redis user is deleted (its connections
        closed) at once."""
        runner = await self.ctx.db.run(partial(store.revoke, runner_id=runner_id))
        if self.ctx.settings.cluster.redis_url is not None:
            _url, access = self._cluster()
            await access.revoke(runner.id)
        return RunnerState(runner, None, None)

    async def open_session(self, token: str) -> RunnerSession:
        """A runner presents its token: it gets a Redis user of its own, with a new password."""
        runner = await self.ctx.db.run(partial(store.by_token_hash, token_hash=token_hash(token)))
        if runner is None:
            raise Unauthorized("this runner token is not valid", code="bad_runner_token")
        if runner.revoked:
            raise Unauthorized(f"the runner {runner.name} was revoked", code="runner_revoked")
        url, access = self._cluster()
        password = secrets.token_urlsafe(32)
        await access.grant(runner.id, password)
        return RunnerSession(runner.id, without_credentials(url), runner_user(runner.id), password)

    async def close(self) -> None:
        if self._access is not None:
            await self._access.close()
