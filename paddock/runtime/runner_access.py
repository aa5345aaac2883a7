"""Runners' access to the Redis between the machines (docs/decisions/022), both sides.

The control plane (`RunnerAccess`, on its own Redis user) gives each runner a Redis user of its
own at each session — `runner-<id>`, which may use only the stream commands, PING, SET, GET and
EXPIRE, and only on the keys `paddock:runner:<id>:*` — and deletes it to revoke the runner,
which also drops its connections. It reads the runners' beats. The runner (`beat`) sets its
`alive` key, with its capacity and a TTL, while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, cast

from paddock.domain.errors import Unavailable
from paddock.domain.runners import HEARTBEAT_S, LOST_AFTER_S, Capacity

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("paddock.cluster")


class AccessRevoked(Exception):
    """The runner's Redis user is gone or refused: the control plane revoked it."""


def runner_user(runner_id: str) -> str:
    return f"runner-{runner_id}"


def alive_key(runner_id: str) -> str:
    return f"paddock:runner:{runner_id}:alive"


@contextlib.contextmanager
def _reaching_redis() -> Iterator[None]:
    from redis.exceptions import RedisError

    try:
        yield
    except (RedisError, OSError) as exc:
        raise Unavailable(
            f"cannot reach the cluster's Redis: {exc}", code="cluster_unreachable"
        ) from exc


class RunnerAccess:
    """The control plane's side. Raises Unavailable (`cluster_unreachable`) while Redis is
    away."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._redis: Redis | None = None

    def _conn(self) -> Redis:
        if self._redis is None:
            import redis.asyncio as aredis

            self._redis = aredis.from_url(self._url)
        return self._redis

    async def grant(self, runner_id: str, password: str) -> None:
        """The runner's user, made anew with `password` (a session replaces the last one)."""
        with _reaching_redis():
            await self._conn().acl_setuser(
                runner_user(runner_id),
                enabled=True,
                passwords=[f"+{password}"],
                categories=["-@all", "+@stream"],
                commands=["+ping", "+set", "+get", "+expire"],
                keys=[f"paddock:runner:{runner_id}:*"],
                reset=True,
                reset_channels=True,
            )

    async def revoke(self, runner_id: str) -> None:
        """Delete the runner's user: its connections are closed, new ones refused."""
        with _reaching_redis():
            await self._conn().acl_deluser(runner_user(runner_id))
            await self._conn().delete(alive_key(runner_id))

    async def beats(self, runner_ids: list[str]) -> dict[str, tuple[Capacity, float]]:
        """The runners that beat within LOST_AFTER_S: their capacity and last beat (epoch)."""
        if not runner_ids:
            return {}
        with _reaching_redis():
            keys = [alive_key(i) for i in runner_ids]
            values = cast(list[bytes | None], await self._conn().mget(keys))
        found: dict[str, tuple[Capacity, float]] = {}
        for runner_id, value in zip(runner_ids, values, strict=True):
            if value is None:
                continue
            beat = json.loads(value)
            if time.time() - beat["at"] <= LOST_AFTER_S:
                found[runner_id] = (Capacity(**beat["capacity"]), beat["at"])
        return found

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


async def beat(url: str, user: str, password: str, runner_id: str, capacity: Capacity) -> None:
    """Set the runner's `alive` key every HEARTBEAT_S seconds, until cancelled. Raises
    AccessRevoked when Redis refuses the runner's user; waits out a Redis that is away."""
    import redis.asyncio as aredis
    from redis.exceptions import AuthenticationError, NoPermissionError, RedisError

    conn = aredis.from_url(url, username=user, password=password)
    try:
        while True:
            body = json.dumps({"capacity": asdict(capacity), "at": time.time()})
            try:
                await conn.set(alive_key(runner_id), body, ex=int(LOST_AFTER_S))
            except (AuthenticationError, NoPermissionError) as exc:
                raise AccessRevoked(str(exc)) from exc
            except RedisError as exc:
                log.warning("the runner cannot reach Redis (%s): trying again", exc)
            await asyncio.sleep(HEARTBEAT_S)
    finally:
        await conn.aclose()
