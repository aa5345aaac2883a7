"""LogService.follow when its reader falls behind: the live queue overflows, the reader
gets SYNC and re-reads the store, and still sees every line exactly once (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from paddock.config import Settings
from paddock.domain.entities import AgentSpec, LogLine
from paddock.domain.logs import LogBatch
from paddock.domain.states import LogStream, ProcessStatus
from paddock.runtime.events import Subscription
from paddock.services.engine import Engine
from paddock.services.processes import log_follow
from paddock.services.processes.log_follow import EndOfLog
from tests.e2e.server import make_repo

pytestmark = pytest.mark.anyio

WRITES = 3000  # far more batches than a subscriber's queue holds (1024)


async def until(condition: Callable[[], bool]) -> None:
    while True:
        if condition():
            return
        await asyncio.sleep(0.01)


async def running_process(engine: Engine, attempt_id: str) -> str:
    while True:
        procs = await engine.processes.list_for_attempt(attempt_id)
        if procs and procs[0].status is ProcessStatus.running:
            return procs[0].id
        await asyncio.sleep(0.01)


async def test_a_reader_that_falls_behind_resyncs_from_the_store(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    overflows = []
    original = Subscription._overflow

    def counting_overflow(self: Subscription[object]) -> None:
        overflows.append(self)
        original(self)

    monkeypatch.setattr(Subscription, "_overflow", counting_overflow)
    engine = Engine(settings)
    await engine.start()
    try:
        project = await engine.projects.register(str(make_repo(tmp_path / "repo")))
        task = await engine.tasks.create(project.id, title="t")
        attempt = await engine.attempts.start(task.id, agent=AgentSpec(command="sleep 30"))

        process_id = await asyncio.wait_for(running_process(engine, attempt.id), 30)
        sink = engine.ctx.logs.get(process_id)
        assert sink is not None
        follow = engine.logs.follow(process_id, heartbeat=30)
        first = await anext(follow)
        assert isinstance(first, list) and first[0].text == "$ bash -c 'sleep 30'"
        seqs = [line.seq for line in first]

        # The reader is subscribed and not reading: one batch per write floods its queue.
        for i in range(WRITES):
            sink.write(LogStream.stdout, f"written {i}\n".encode())
        assert overflows, "the reader's queue should have overflowed"
        texts: list[str] = []
        stopped = False
        async for item in follow:
            if isinstance(item, EndOfLog):
                break
            assert isinstance(item, list)
            lines: list[LogLine] = item
            seqs += [line.seq for line in lines]
            texts += [line.text for line in lines]
            if not stopped and len(seqs) == WRITES + 1:
                stopped = True
                stop = await engine.processes.stop(process_id)
                assert stop.status is ProcessStatus.stopped
        assert stopped
        assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
        assert texts[:WRITES] == [f"written {i}" for i in range(WRITES)]
        assert texts[-1] == "stopped (killed by signal 15)"
        # What the reader saw is what the store holds.
        stored = await engine.logs.read(process_id, limit=10000)
        assert [line.seq for line in stored] == seqs
    finally:
        await engine.close()


def test_the_pace_window_grows_with_the_servers_readers_and_is_bounded() -> None:
    assert log_follow.pace_window(1) == log_follow.pace_window(log_follow.FANOUT_READERS) == 0
    assert log_follow.pace_window(log_follow.FANOUT_READERS + 1) == log_follow.FANOUT_WINDOW
    assert log_follow.pace_window(40) == pytest.approx(40 / log_follow.SEND_BUDGET)
    assert log_follow.pace_window(100_000) == log_follow.MAX_WINDOW


async def test_readers_of_several_processes_are_paced_together(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    """Many readers in all, a few per process (each process under FANOUT_READERS): every reader
    still gets every line, in far fewer sends than batches."""
    # A wide window makes the pacing visible without depending on this machine's speed.
    monkeypatch.setattr(log_follow, "FANOUT_WINDOW", 0.5)
    monkeypatch.setattr(log_follow, "MAX_WINDOW", 0.5)
    per_process = log_follow.FANOUT_READERS // 2 + 2
    engine = Engine(settings)
    await engine.start()
    try:
        project = await engine.projects.register(str(make_repo(tmp_path / "repo")))
        process_ids = []
        for name in ("a", "b"):
            task = await engine.tasks.create(project.id, title=name)
            attempt = await engine.attempts.start(task.id, agent=AgentSpec(command="sleep 30"))
            process_ids.append(await asyncio.wait_for(running_process(engine, attempt.id), 30))
        sinks = [engine.ctx.logs.get(process_id) for process_id in process_ids]

        async def read(process_id: str) -> tuple[list[int], int]:
            seqs: list[int] = []
            sends = 0
            async for item in engine.logs.follow(process_id, heartbeat=30):
                if isinstance(item, EndOfLog):
                    return seqs, sends
                assert isinstance(item, list)
                sends += 1
                seqs += [line.seq for line in item]
            raise AssertionError("the stream ended without END")

        followers = {
            process_id: [asyncio.create_task(read(process_id)) for _ in range(per_process)]
            for process_id in process_ids
        }
        await asyncio.wait_for(until(lambda: engine.ctx.logs.reader_count == 2 * per_process), 30)
        for i in range(200):  # 200 live batches each, one per loop turn
            for sink in sinks:
                assert sink is not None
                sink.write(LogStream.stdout, f"line {i}\n".encode())
            await asyncio.sleep(0)
        for process_id, tasks in followers.items():
            await engine.processes.stop(process_id)
            results = await asyncio.wait_for(asyncio.gather(*tasks), 30)
            total = (await engine.processes.get(process_id)).line_count
            for seqs, sends in results:
                assert seqs == list(range(1, total + 1))  # every line, once, in order
                assert sends < 20  # paced: far fewer sends than the 200 batches
    finally:
        await engine.close()


async def test_a_backlog_goes_out_in_pieces_of_whole_batches(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    """A reader far behind sends what the sink holds a few batches at a time (never its whole
    backlog in one write), each piece starting right after the last line of the one before."""
    monkeypatch.setattr(Subscription, "_overflow", lambda self: pytest.fail("no overflow here"))
    engine = Engine(settings)
    await engine.start()
    try:
        project = await engine.projects.register(str(make_repo(tmp_path / "repo")))
        task = await engine.tasks.create(project.id, title="t")
        attempt = await engine.attempts.start(task.id, agent=AgentSpec(command="sleep 30"))
        process_id = await asyncio.wait_for(running_process(engine, attempt.id), 30)
        sink = engine.ctx.logs.get(process_id)
        assert sink is not None
        follow = engine.logs.follow_batches(process_id, heartbeat=30)
        first = await anext(follow)
        assert isinstance(first, list)
        last = first[-1].last_seq
        # 300 batches of ~10 KB queue up while the reader does not read: 3 MB in all.
        line = b"x" * 99 + b"\n"
        for _ in range(300):
            sink.write(LogStream.stdout, line * 100)
        pieces: list[list[LogBatch]] = []
        while last < sink.last_seq:
            item = await anext(follow)
            assert isinstance(item, list)
            assert item[0].first_seq == last + 1  # no gap, no overlap
            assert all(b.first_seq == a.last_seq + 1 for a, b in itertools.pairwise(item))
            last = item[-1].last_seq
            pieces.append(item)
        assert len(pieces) >= 3  # about 1 MB of text per write
        assert max(sum(len(b.data) for b in piece) for piece in pieces) <= 1 << 20
        assert sum(b.count for piece in pieces for b in piece) == 300 * 100
        await engine.processes.stop(process_id)
        rest = [item async for item in follow]
        assert isinstance(rest[-1], EndOfLog)
    finally:
        await engine.close()
