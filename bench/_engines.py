"""The engines bench/engine_choice.py measures, each behind one small adapter: publish and
follow an event stream, append and follow a log (docs/decisions/022)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

IN_FLIGHT = 32  # log batches in flight (PostgreSQL holds a connection for each)


class Engine:
    name = ""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def publish_event(self, body: bytes) -> None: ...
    def follow_events(self) -> AsyncIterator[bytes]: ...
    async def append_batch(self, body: bytes) -> None: ...
    def follow_log(self) -> AsyncIterator[bytes]: ...


class Nats(Engine):
    name = "NATS JetStream (file storage)"

    def __init__(self, port: int) -> None:
        self.url = f"nats://127.0.0.1:{port}"

    async def open(self) -> None:
        import nats

        self.nc = await nats.connect(self.url)
        self.js = self.nc.jetstream()
        await self.js.add_stream(name="EVENTS", subjects=["events"])
        await self.js.add_stream(name="LOGS", subjects=["logs.*"])
        self.reader = await nats.connect(self.url)

    async def close(self) -> None:
        await self.nc.close()
        await self.reader.close()

    async def publish_event(self, body: bytes) -> None:
        await self.js.publish("events", body)

    async def _follow(self, subject: str) -> AsyncIterator[bytes]:
        sub = await self.reader.jetstream().subscribe(subject, ordered_consumer=True)
        while True:
            msg = await sub.next_msg(timeout=30)
            yield msg.data

    def follow_events(self) -> AsyncIterator[bytes]:
        return self._follow("events")

    async def append_batch(self, body: bytes) -> None:
        await self.js.publish("logs.p1", body)

    def follow_log(self) -> AsyncIterator[bytes]:
        return self._follow("logs.p1")


class Redis(Engine):
    name = "Redis Streams (AOF, fsync 1 s)"

    def __init__(self, port: int) -> None:
        self.port = port

    async def open(self) -> None:
        import redis.asyncio as aredis

        self.r = aredis.Redis(port=self.port)
        self.reader = aredis.Redis(port=self.port)

    async def close(self) -> None:
        await self.r.aclose()
        await self.reader.aclose()

    async def publish_event(self, body: bytes) -> None:
        await self.r.xadd("events", {"e": body})

    async def _follow(self, key: str) -> AsyncIterator[bytes]:
        last = "0"
        while True:
            for _key, entries in await self.reader.xread({key: last}, block=30_000, count=500):
                for entry_id, fields in entries:
                    last = entry_id
                    yield fields[b"e"]

    def follow_events(self) -> AsyncIterator[bytes]:
        return self._follow("events")

    async def append_batch(self, body: bytes) -> None:
        await self.r.xadd("logs:p1", {"e": body})

    def follow_log(self) -> AsyncIterator[bytes]:
        return self._follow("logs:p1")


class Postgres(Engine):
    """Events: a row and pg_notify in one transaction; the follower LISTENs and reads the row.
    Logs: a row per batch, a notify per batch."""

    name = "PostgreSQL (rows + LISTEN/NOTIFY)"

    def __init__(self, url: str) -> None:
        self.url = url

    async def open(self) -> None:
        import psycopg

        self.conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS feed (id bigserial PRIMARY KEY, topic text, body bytea)"
        )
        self.pool = [
            await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            for _ in range(IN_FLIGHT)
        ]
        self.free: asyncio.Queue[Any] = asyncio.Queue()
        for conn in self.pool:
            self.free.put_nowait(conn)

    async def close(self) -> None:
        for conn in [self.conn, *self.pool]:
            await conn.close()

    async def _append(self, topic: str, body: bytes) -> None:
        conn = await self.free.get()
        try:
            async with conn.transaction():
                cur = await conn.execute(
                    "INSERT INTO feed (topic, body) VALUES (%s, %s) RETURNING id", (topic, body)
                )
                row = await cur.fetchone()
                await conn.execute("SELECT pg_notify(%s, %s)", (topic, str(row[0])))
        finally:
            self.free.put_nowait(conn)

    async def publish_event(self, body: bytes) -> None:
        await self._append("events", body)

    async def _follow(self, topic: str) -> AsyncIterator[bytes]:
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            reader = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            await conn.execute(f"LISTEN {topic}")
            last = 0
            async for _note in conn.notifies():
                cur = await reader.execute(
                    "SELECT id, body FROM feed WHERE topic = %s AND id > %s ORDER BY id",
                    (topic, last),
                )
                for row_id, body in await cur.fetchall():
                    last = row_id
                    yield bytes(body)

    def follow_events(self) -> AsyncIterator[bytes]:
        return self._follow("events")

    async def append_batch(self, body: bytes) -> None:
        await self._append("logs", body)

    def follow_log(self) -> AsyncIterator[bytes]:
        return self._follow("logs")
