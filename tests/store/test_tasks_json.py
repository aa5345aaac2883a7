"""The task list's fast path (list_task_dicts + pydantic_core.to_json) writes the same JSON,
byte for byte, as serialising the read models (`TaskPublic`) of the `Task`s that list_tasks
returns: what GET /api/projects/{id}/tasks declares."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic_core
import pytest
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from paddock.domain.public import TaskPublic
from paddock.store.db import Database
from paddock.store.tables.base import sqlite_utc_json
from paddock.store.tables.projects import ProjectRow, StepRow
from paddock.store.tables.tasks import TaskRow
from paddock.store.tasks import list_task_dicts, list_tasks

TASKS = TypeAdapter(list[TaskPublic])
PROJECT, TODO_STEP, DONE_STEP = "p" * 32, "a" * 32, "b" * 32

STAMPS = [
    datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC),
    datetime(2024, 3, 1, 0, 0, 0, tzinfo=UTC),  # whole second: no fraction in the JSON
    datetime(2024, 3, 1, 0, 0, 0, 120000, tzinfo=UTC),  # trailing zeros stay
    datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
]
TITLES = [
    'quotes " and \\ backslash',
    "control \n\t\r\x01\x1f and \x7f",  # no NUL: PostgreSQL text refuses it
    "unicode é ü 漢字 😀 \u2028",
    "</script><b>html</b>",
]
POSITIONS = [1024.0, 0.1 + 0.2, 1e-7, 1e16, -0.0, 123456789.123, 1e-5]


def _seed(s: Session) -> None:
    now = STAMPS[0]
    s.add(ProjectRow(id=PROJECT, name="p", repo_path="/r", default_branch="main", created_at=now))
    s.add(ProjectRow(id="q" * 32, name="q", repo_path="/q", default_branch="main"))
    s.flush()
    s.add(StepRow(id=TODO_STEP, project_id=PROJECT, name="To do", position=0, color="gray"))
    s.add(StepRow(id=DONE_STEP, project_id=PROJECT, name="Done", position=1, color="green"))
    s.flush()
    for i, position in enumerate(POSITIONS):
        s.add(
            TaskRow(
                id=f"{i:032x}",
                project_id=PROJECT,
                step_id=(DONE_STEP, TODO_STEP)[i % 2],
                title=TITLES[i % len(TITLES)],
                description="" if i % 3 else f"line one\nline two {i}",
                position=position,
                created_at=STAMPS[i % len(STAMPS)],
                updated_at=STAMPS[(i + 1) % len(STAMPS)],
                # Some pending proposals: SQLite's 0 and 1 must come out as JSON's booleans.
                proposed=i % 3 == 1,
                proposed_by="c" * 32 if i % 3 else None,
            )
        )


@pytest.mark.parametrize("step_id", [None, TODO_STEP, DONE_STEP, "no-such-step"])
def test_the_json_is_the_json_of_the_tasks(database: Database, step_id: str | None) -> None:
    database.call(_seed)

    expected = database.call(
        lambda s: TASKS.dump_json([TaskPublic.of(t) for t in list_tasks(s, PROJECT, step_id)])
    )
    got = database.call(lambda s: pydantic_core.to_json(list_task_dicts(s, PROJECT, step_id)))

    assert got == expected
    if step_id != "no-such-step":
        expected_count = len(POSITIONS) if step_id is None else 3 + (step_id == DONE_STEP)
        assert got.count(b'"id"') == expected_count


def test_tasks_come_in_board_order(database: Database) -> None:
    database.call(_seed)
    listed = database.call(lambda s: list_task_dicts(s, PROJECT))
    assert [(t["step_id"], t["position"]) for t in listed] == sorted(
        (t["step_id"], t["position"]) for t in listed
    )
    assert database.call(lambda s: list_task_dicts(s, "q" * 32)) == []


@pytest.mark.parametrize(
    "stored",
    [
        "2024-02-29 23:59:58.123456",
        "2024-03-01 00:00:00.000000",
        "2024-03-01 00:00:00.120000",
        "0999-01-01 00:00:00.000001",
        # Not the shape SQLAlchemy writes: parsed, then formatted by pydantic.
        "2024-03-01 00:00:00",
        "2024-03-01 00:00:00.5",
        "2024-03-01T00:00:00.123",
    ],
)
def test_stored_sqlite_timestamps_become_the_apis_text(stored: str) -> None:
    parsed = datetime.fromisoformat(stored + "+00:00")
    assert pydantic_core.to_json(sqlite_utc_json(stored)) == pydantic_core.to_json(parsed)
    assert pydantic_core.to_json(sqlite_utc_json(stored)).endswith(b'Z"')
