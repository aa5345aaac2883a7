"""Parsing off the event loop: the loop keeps running while a parse does, and a parse whose
caller went away stops at its next chunk. Stopping the engine is bounded."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from paddock.config import Settings
from paddock.services import engine as engine_module
from paddock.services.engine import Engine
from paddock.services.testing.parsing import Abandoned, Parser, until_stopped

pytestmark = pytest.mark.anyio


async def test_a_parse_runs_in_a_worker_thread_while_the_loop_goes_on() -> None:
    started, loop_ran = threading.Event(), threading.Event()

    def work(_stop: threading.Event) -> int:
        started.set()
        # Only the event loop sets it: a parse that held the loop would wait here in vain.
        assert loop_ran.wait(30), "the event loop did not run while the parse did"
        return threading.get_ident()

    async def meanwhile() -> None:
        await anyio.to_thread.run_sync(started.wait)
        loop_ran.set()

    async with anyio.create_task_group() as group:
        group.start_soon(meanwhile)
        worker = await Parser().run(work)
    assert worker != threading.get_ident()


async def test_a_parse_whose_caller_went_away_stops_at_its_next_chunk() -> None:
    taken = itertools.count()
    ended = threading.Event()
    raised: list[BaseException] = []

    def endless() -> Iterator[bytes]:
        while True:
            next(taken)
            yield b"<testcase/>"

    def work(stop: threading.Event) -> None:
        try:
            for _ in until_stopped(stop, endless()):
                pass
        except BaseException as exc:
            raised.append(exc)
            raise
        finally:
            ended.set()

    with anyio.move_on_after(0.2) as scope:  # the caller goes away mid-parse
        await Parser().run(work)
    assert scope.cancelled_caught
    assert await anyio.to_thread.run_sync(ended.wait, 30), "the parse went on"
    assert [type(exc) for exc in raised] == [Abandoned]


async def test_stopping_the_engine_is_bounded_even_when_a_part_of_it_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'paddock.db'}",
        demo=False,
    )
    engine = Engine(settings)
    await engine.start()
    monkeypatch.setattr(engine_module, "CLOSE_TIMEOUT_S", 0.5)
    monkeypatch.setattr(engine.test_runs, "close", anyio.sleep_forever)

    with caplog.at_level(logging.ERROR, logger="paddock"), anyio.fail_after(60):
        await engine.close()
    assert "shutting down took over 0.5 s: the rest was given up" in caplog.text
