"""Shared fixtures. `database` runs a test against SQLite and against a throwaway PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from paddock.store.db import Database
from tests.e2e.server import forget_stopped_servers, servers_seen
from tests.pg import PgServer, PgUnavailableError

# Run as root (as CI is), Paddock hands each worktree to its sandbox user, and the tests' own
# `git` in a worktree would refuse it as "dubious ownership", as it would for a root user.
if os.geteuid() == 0 and "GIT_CONFIG_COUNT" not in os.environ:
    os.environ.update(
        GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="safe.directory", GIT_CONFIG_VALUE_0="*"
    )


# A task that outlives its cancellation at a loop's end hung the suite (anyio's runner waits for
# it forever, and the test timeout names no task). Bounded here, a hang becomes this error,
# with the stacks of the tasks still running.
LEFT_TASKS_SECONDS = 60


def _cancel_all_tasks_bounded(loop: asyncio.AbstractEventLoop) -> None:
    left = asyncio.all_tasks(loop)
    if not left:
        return
    for task in left:
        task.cancel()
    _done, pending = loop.run_until_complete(asyncio.wait(left, timeout=LEFT_TASKS_SECONDS))
    if pending:
        stacks = io.StringIO()
        for task in pending:
            task.print_stack(file=stacks)
        raise RuntimeError(f"tasks still running after cancellation:\n{stacks.getvalue()}")
    for task in left:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception at the loop's end",
                    "exception": task.exception(),
                    "task": task,
                }
            )


asyncio.runners._cancel_all_tasks = _cancel_all_tasks_bounded  # type: ignore[attr-defined]


def pytest_runtest_setup(item: pytest.Item) -> None:
    forget_stopped_servers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test's report ends with the tails of the logs of the servers it used."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed and report.when in ("call", "setup"):
        for server in servers_seen():
            report.sections.append((f"paddock serve log ({server.url})", server.log_tail()))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server of this test session's own, started on first use.

    Missing binaries fail the test rather than skip it: CI must never silently lose the
    PostgreSQL half of the suite.
    """
    try:
        server = PgServer.start()
    except PgUnavailableError as exc:
        error = str(exc)
    else:
        error = ""
    if error:  # failed outside the except block, so the report shows the message only once
        pytest.fail(f"cannot start the test PostgreSQL server: {error}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_server_url(pg_server: PgServer) -> str:
    """URL of the throwaway server's maintenance database, e.g. for end-to-end tests."""
    return pg_server.url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: a SQLite file, or a fresh database on the test server."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'paddock.db'}")
        db.migrate()
        yield db
        db.dispose()
        return

    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    try:
        db = Database(server.url_for(name))
        try:
            db.migrate()
            yield db
        finally:
            db.dispose()
    finally:
        server.drop_database(name)
