"""Decision gates and change requests in the store, on SQLite and PostgreSQL: one pending gate
per app (asked twice, raced by two threads, or inserted behind the store's back), a gate
decided once, and change requests round-tripping every field."""

from __future__ import annotations

import threading
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from paddock.domain.builder.apps import App, AppStage
from paddock.domain.builder.brief import Answer, Question
from paddock.domain.builder.builds import BuildKind
from paddock.domain.builder.changes import ChangeRequest, ChangeStatus
from paddock.domain.builder.gates import Gate, GateChoice, GateStatus
from paddock.domain.builder.timeline import TimelineKind
from paddock.domain.errors import Conflict, NotFound
from paddock.domain.names import new_id
from paddock.store import apps as app_store
from paddock.store import builds as build_store
from paddock.store import decisions, timeline
from paddock.store.db import Database
from paddock.store.tables.apps import ChangeRow, GateRow
from paddock.store.tables.projects import ProjectRow

AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def make_app(db: Database, suffix: str = "1") -> str:
    """A project and an app on it, as the builder makes them."""
    with db.session() as s:
        project = ProjectRow(
            id=new_id(), name=f"app{suffix}", repo_path=f"/apps/{suffix}", default_branch="main"
        )
        s.add(project)
        s.flush()
        app = App(
            id=new_id(),
            name=f"App {suffix}",
            slug=f"app-{suffix}",
            idea="An app for my running club",
            stage=AppStage.mvp_built,
            project_id=project.id,
            created_at=AT,
            updated_at=AT,
        )
        return app_store.create_app(s, app).id


@pytest.fixture
def app_id(database: Database) -> str:
    return make_app(database)


def pending_rows(db: Database, app_id: str) -> int:
    with db.session() as s:
        query = select(func.count()).where(
            GateRow.app_id == app_id, GateRow.status == GateStatus.pending.value
        )
        return s.scalar(query) or 0


# -- gates ------------------------------------------------------------------------------------


def test_opening_a_gate_twice_gives_the_pending_one_back(database: Database, app_id: str) -> None:
    with database.session() as s:
        first, made = decisions.open_gate(s, app_id, "v0.1")
    assert made is True
    assert (first.app_id, first.version, first.status) == (app_id, "v0.1", GateStatus.pending)
    assert (first.choice, first.reason, first.resolved_at) == (None, "", None)
    with database.session() as s:
        again, made_again = decisions.open_gate(s, app_id, "v0.2")
        assert decisions.pending_gate(s, app_id) == again
    assert made_again is False
    assert again.id == first.id and again.version == "v0.1"  # the pending one, not a new one
    assert pending_rows(database, app_id) == 1


def test_a_resolved_gate_is_kept_and_a_new_one_can_open(database: Database, app_id: str) -> None:
    with database.session() as s:
        first, _ = decisions.open_gate(s, app_id, "v0.1")
    with database.session() as s:
        decided = decisions.resolve_gate(s, first.id, GateChoice.iterate, "add a waitlist")
    assert decided.status is GateStatus.resolved and decided.choice is GateChoice.iterate
    assert decided.reason == "add a waitlist" and decided.resolved_at is not None
    with database.session() as s:
        assert decisions.pending_gate(s, app_id) is None
        assert decisions.get_gate(s, first.id).choice is GateChoice.iterate
    with database.session() as s:
        second, made = decisions.open_gate(s, app_id, "v0.2")
    assert made is True and second.id != first.id and second.version == "v0.2"
    with database.session() as s:
        listed = decisions.list_gates(s, app_id)
    assert [(g.id, g.status) for g in listed] == [
        (first.id, GateStatus.resolved),
        (second.id, GateStatus.pending),
    ]


def test_a_gate_is_not_resolved_twice(database: Database, app_id: str) -> None:
    with database.session() as s:
        gate, _ = decisions.open_gate(s, app_id, "v0.1")
    with database.session() as s:
        decisions.resolve_gate(s, gate.id, GateChoice.park, "")
    with pytest.raises(Conflict) as caught, database.session() as s:
        decisions.resolve_gate(s, gate.id, GateChoice.ship, "changed my mind")
    assert caught.value.code == "gate_resolved"
    assert caught.value.details == {"gate_id": gate.id, "choice": "park"}
    with database.session() as s:
        kept = decisions.get_gate(s, gate.id)
    assert (kept.choice, kept.reason) == (GateChoice.park, "")  # the first decision stands


def test_an_unknown_gate_is_not_found(database: Database, app_id: str) -> None:
    with pytest.raises(NotFound) as caught, database.session() as s:
        decisions.resolve_gate(s, "0" * 32, GateChoice.ship, "")
    assert caught.value.code == "gate_not_found"
    with pytest.raises(NotFound), database.session() as s:
        decisions.get_gate(s, "0" * 32)


def gate_row(app_id: str, status: GateStatus) -> GateRow:
    resolved = status is GateStatus.resolved
    return GateRow(
        id=new_id(),
        app_id=app_id,
        version="v0.1",
        status=status.value,
        choice=GateChoice.ship.value if resolved else None,
        resolved_at=AT if resolved else None,
    )


def test_the_partial_index_refuses_a_second_pending_row(database: Database, app_id: str) -> None:
    other = make_app(database, "2")
    with database.session() as s:
        s.add(gate_row(app_id, GateStatus.pending))
        s.add(gate_row(other, GateStatus.pending))  # another app's: allowed
    with pytest.raises(IntegrityError), database.session() as s:
        s.add(gate_row(app_id, GateStatus.pending))
        s.flush()
    assert pending_rows(database, app_id) == 1


def test_the_partial_index_allows_many_resolved_rows(database: Database, app_id: str) -> None:
    with database.session() as s:
        s.add_all(gate_row(app_id, GateStatus.resolved) for _ in range(3))
        s.add(gate_row(app_id, GateStatus.pending))
    with database.session() as s:
        assert len(decisions.list_gates(s, app_id)) == 4


def race_to_open(db: Database, app_id: str) -> list[tuple[Gate, bool]]:
    """Two threads, each with its own session and connection, open the app's gate at once."""
    start = threading.Barrier(2)
    results: list[tuple[Gate, bool]] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            start.wait(timeout=10)
            results.append(db.call(lambda s: decisions.open_gate(s, app_id, "v0.1")))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results


def test_two_requests_racing_open_one_gate(database: Database) -> None:
    """Whoever wins each round, one gate is made and both requests get it."""
    for round_ in range(5):
        app_id = make_app(database, f"race{round_}")
        results = race_to_open(database, app_id)
        assert len(results) == 2
        assert sorted(made for _, made in results) == [False, True]
        assert results[0][0].id == results[1][0].id
        assert pending_rows(database, app_id) == 1


# -- change requests --------------------------------------------------------------------------


def full_change(app_id: str, build_id: str) -> ChangeRequest:
    """A request with every field set away from its default."""
    return ChangeRequest(
        id=new_id(),
        app_id=app_id,
        description="Add a waitlist to full runs",
        version="v0.1",
        status=ChangeStatus.confirmed,
        created_at=AT,
        updated_at=AT,
        questions=(
            Question(id="done_looks_like", text="When it is done?", hint="e.g. a button"),
            Question(id="where", text="Which part?"),
        ),
        answers=(
            Answer(question_id="done_looks_like", text="A Waitlist button"),
            Answer(question_id="where", text="Sign up"),
        ),
        clarified="Add a waitlist to full runs\n- When it is done? A Waitlist button",
        features=("Sign up", "See runs"),
        new_capability=True,
        against_non_goals=("No payments",),
        iteration=2,
        tier="partner",
        tier_limit=5,
        alignment_score=59,
        model_score=40,
        model_reason="A waitlist is new",
        build_id=build_id,
    )


def without_times(change: ChangeRequest) -> dict[str, object]:
    stored = {f.name: getattr(change, f.name) for f in fields(change)}
    del stored["created_at"], stored["updated_at"]  # the store's own clock
    return stored


def test_a_change_request_round_trips_every_field(database: Database, app_id: str) -> None:
    with database.session() as s:
        build_id = build_store.create_build(s, app_id, BuildKind.change, "patch it").id
    change = full_change(app_id, build_id)
    with database.session() as s:
        added = decisions.add_change(s, change)
    with database.session() as s:
        read = decisions.get_change(s, change.id)
    assert without_times(added) == without_times(change)
    assert without_times(read) == without_times(change)
    assert isinstance(read.questions, tuple) and isinstance(read.answers, tuple)
    assert isinstance(read.features, tuple) and isinstance(read.against_non_goals, tuple)
    assert read.new_capability is True and read.scope_creep is True


def test_a_draft_keeps_its_empty_fields_and_nones(database: Database, app_id: str) -> None:
    draft = ChangeRequest(
        id=new_id(),
        app_id=app_id,
        description="Dark mode",
        version="v0.1",
        status=ChangeStatus.draft,
        created_at=AT,
        updated_at=AT,
    )
    with database.session() as s:
        decisions.add_change(s, draft)
    with database.session() as s:
        read = decisions.get_change(s, draft.id)
    assert without_times(read) == without_times(draft)
    assert (read.iteration, read.tier_limit, read.alignment_score, read.build_id) == (
        None,
        None,
        None,
        None,
    )
    assert (read.questions, read.features, read.new_capability) == ((), (), False)


def test_saving_a_change_replaces_its_fields(database: Database, app_id: str) -> None:
    with database.session() as s:
        build_id = build_store.create_build(s, app_id, BuildKind.change, "patch it").id
    draft = replace(full_change(app_id, build_id), status=ChangeStatus.draft, build_id=None)
    with database.session() as s:
        decisions.add_change(s, draft)
    edited = replace(
        draft,
        status=ChangeStatus.discarded,
        questions=(),
        answers=(),
        features=(),
        new_capability=False,
        against_non_goals=(),
        iteration=None,
        tier_limit=None,
        alignment_score=100,
        model_score=None,
        model_reason="",
        build_id=build_id,
    )
    with database.session() as s:
        saved = decisions.save_change(s, edited)
    with database.session() as s:
        read = decisions.get_change(s, draft.id)
    assert without_times(saved) == without_times(edited)
    assert without_times(read) == without_times(edited)
    assert read.updated_at >= read.created_at


def test_an_unknown_change_is_not_found(database: Database, app_id: str) -> None:
    missing = replace(full_change(app_id, "0" * 32), id="0" * 32, build_id=None)
    with pytest.raises(NotFound) as caught, database.session() as s:
        decisions.get_change(s, missing.id)
    assert caught.value.code == "change_not_found"
    with pytest.raises(NotFound) as caught, database.session() as s:
        decisions.save_change(s, missing)
    assert caught.value.code == "change_not_found"


def test_changes_are_listed_per_app_oldest_first(database: Database, app_id: str) -> None:
    other = make_app(database, "2")
    ids = [new_id() for _ in range(3)]
    with database.session() as s:
        for n, change_id in enumerate(ids):
            decisions.add_change(
                s,
                ChangeRequest(
                    id=change_id,
                    app_id=app_id,
                    description=f"change {n}",
                    version="v0.1",
                    status=ChangeStatus.draft,
                    created_at=AT,
                    updated_at=AT,
                ),
            )
        decisions.add_change(
            s,
            ChangeRequest(
                id=new_id(),
                app_id=other,
                description="another app's",
                version="v0.1",
                status=ChangeStatus.draft,
                created_at=AT,
                updated_at=AT,
            ),
        )
    # Times set apart (and against the order of insertion): the list follows created_at.
    with database.session() as s:
        for hours, change_id in zip([3, 1, 2], ids, strict=True):
            when = AT + timedelta(hours=hours)
            s.execute(update(ChangeRow).where(ChangeRow.id == change_id).values(created_at=when))
    with database.session() as s:
        listed = decisions.list_changes(s, app_id)
    assert [c.id for c in listed] == [ids[1], ids[2], ids[0]]
    assert [c.description for c in listed] == ["change 1", "change 2", "change 0"]


def test_a_gate_opened_in_a_rolled_back_transaction_is_gone(database: Database) -> None:
    """No savepoint of its own: under pysqlite's transaction handling one was the outermost
    transaction, and its release committed the gate whatever the caller did next."""
    app_id = make_app(database)
    with pytest.raises(RuntimeError), database.session() as s:
        decisions.open_gate(s, app_id, "v0.1")
        raise RuntimeError("a later step of the same transaction fails")
    assert pending_rows(database, app_id) == 0


def test_timeline_entries_written_at_once_each_get_their_own_seq(database: Database) -> None:
    """Two writers numbering the same app's entries (a build's stages, a decision) take turns:
    each reads the last seq and inserts the next under the app's lock."""
    app_id = make_app(database)
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def write(n: int) -> None:
        start.wait()
        try:
            for i in range(10):
                database.call(
                    lambda s, i=i: timeline.append(s, app_id, TimelineKind.build_stage, f"{n}.{i}")
                )
        except BaseException as exc:  # the test fails on it below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with database.session() as s:
        seqs = [e.seq for e in timeline.entries(s, app_id)]
    assert seqs == list(range(1, 41))
