"""Tasks an agent proposes from inside its attempt, and the progress line it reports, driven
through the engine on SQLite and PostgreSQL: where a proposal lands, its bounds (the agent is
hostile), accepting and dismissing it, what a pending one may not do, and the progress line
cleaned, bounded and published."""

from __future__ import annotations

from pathlib import Path

import pytest

from paddock.domain.entities import AgentSpec, Attempt, Project
from paddock.domain.errors import Conflict, InvalidInput, NotFound
from paddock.domain.progress import MAX_PROGRESS_CHARS
from paddock.domain.tasks import MAX_PENDING_PROPOSALS
from paddock.services.engine import Engine
from tests.e2e.server import make_repo

pytestmark = pytest.mark.anyio

AGENT = AgentSpec(command="true")


@pytest.fixture
async def project(engine: Engine, tmp_path: Path) -> Project:
    return await engine.projects.register(str(make_repo(tmp_path / "repo")))


@pytest.fixture
async def attempt(engine: Engine, project: Project) -> Attempt:
    task = await engine.tasks.create(project.id, title="Build the login page")
    # Nothing runs: the attempt waits (awaiting_review), as an agent's would between turns.
    return await engine.attempts.start(task.id, agent=AGENT, run=False)


def events_of(engine: Engine, seq: int, type_: str) -> list[dict[str, object]]:
    return [e.data for e in engine.bus.replay(seq) or [] if e.type == type_]


async def test_a_proposal_lands_pending_in_the_first_step(
    engine: Engine, project: Project, attempt: Attempt
) -> None:
    first, second, *_ = await engine.workflow.steps(project.id)
    other = await engine.tasks.create(project.id, title="Elsewhere", step_id=second.id)
    seq = engine.bus.last_seq

    task = await engine.tasks.propose(attempt.id, "  Add a logout button ", "It needs one.\n")

    assert (task.project_id, task.step_id) == (project.id, first.id)
    assert (task.title, task.description) == ("Add a logout button", "It needs one.\n")
    assert task.proposed is True
    assert task.proposed_by == attempt.id
    assert (await engine.tasks.get(task.id)).proposed is True
    assert other.proposed is False and other.proposed_by is None
    [created] = events_of(engine, seq, "task.created")
    assert created["id"] == task.id
    assert (created["proposed"], created["proposed_by"]) == (True, attempt.id)


async def test_a_proposal_meets_the_rules_of_any_task(engine: Engine, attempt: Attempt) -> None:
    for title in ("line one\nline two", "\x1b]8;;https://evil\x07click", "", "x" * 501):
        with pytest.raises(InvalidInput) as refused:
            await engine.tasks.propose(attempt.id, title, "")
        assert refused.value.code == "bad_title"
    with pytest.raises(InvalidInput) as too_large:
        await engine.tasks.propose(attempt.id, "Big", "x" * (64 * 1024 + 1))
    assert too_large.value.code == "description_too_large"
    with pytest.raises(InvalidInput) as bad:
        await engine.tasks.propose(attempt.id, "Escapes", "\x1b[2J")
    assert bad.value.code == "bad_description"


async def test_an_attempt_has_a_bounded_number_of_pending_proposals(
    engine: Engine, project: Project, attempt: Attempt
) -> None:
    proposed = [
        await engine.tasks.propose(attempt.id, f"Idea {i}", "")
        for i in range(MAX_PENDING_PROPOSALS)
    ]
    with pytest.raises(Conflict) as refused:
        await engine.tasks.propose(attempt.id, "One too many", "")
    assert refused.value.code == "too_many_proposals"
    assert len(await engine.tasks.list_json(project.id)) > 0
    # Another attempt has its own count.
    task = await engine.tasks.create(project.id, title="Another")
    other = await engine.attempts.start(task.id, agent=AGENT, run=False)
    await engine.tasks.propose(other.id, "From the other attempt", "")
    # Accepted or dismissed ones no longer count.
    await engine.tasks.accept(proposed[0].id)
    await engine.tasks.dismiss(proposed[1].id)
    await engine.tasks.propose(attempt.id, "Room again", "")
    await engine.tasks.propose(attempt.id, "And again", "")
    with pytest.raises(Conflict):
        await engine.tasks.propose(attempt.id, "Full again", "")


async def test_accepting_makes_an_ordinary_task_and_keeps_who_proposed_it(
    engine: Engine, attempt: Attempt
) -> None:
    task = await engine.tasks.propose(attempt.id, "Write the docs", "")
    seq = engine.bus.last_seq

    accepted = await engine.tasks.accept(task.id)

    assert (accepted.proposed, accepted.proposed_by) == (False, attempt.id)
    assert (await engine.tasks.get(task.id)).proposed is False
    [updated] = events_of(engine, seq, "task.updated")
    assert (updated["id"], updated["proposed"], updated["proposed_by"]) == (
        task.id,
        False,
        attempt.id,
    )
    for again in (engine.tasks.accept, engine.tasks.dismiss):
        with pytest.raises(Conflict) as refused:
            await again(task.id)
        assert refused.value.code == "not_proposed"
    assert (await engine.tasks.get(task.id)).title == "Write the docs"  # not dismissed


async def test_dismissing_deletes_the_proposal_and_only_a_proposal(
    engine: Engine, project: Project, attempt: Attempt
) -> None:
    task = await engine.tasks.propose(attempt.id, "Rewrite it in Rust", "")
    seq = engine.bus.last_seq

    await engine.tasks.dismiss(task.id)

    with pytest.raises(NotFound):
        await engine.tasks.get(task.id)
    assert events_of(engine, seq, "task.deleted") == [{"id": task.id}]
    mine = await engine.tasks.create(project.id, title="The user's own")
    with pytest.raises(Conflict) as refused:
        await engine.tasks.dismiss(mine.id)
    assert refused.value.code == "not_proposed"
    assert (await engine.tasks.get(mine.id)).id == mine.id


async def test_no_attempt_starts_on_a_pending_proposal(engine: Engine, attempt: Attempt) -> None:
    task = await engine.tasks.propose(attempt.id, "Refactor the models", "")

    with pytest.raises(Conflict) as refused:
        await engine.attempts.start(task.id, agent=AGENT, run=False)

    assert refused.value.code == "task_proposed"
    assert await engine.attempts.list_for_task(task.id) == []
    await engine.tasks.accept(task.id)
    started = await engine.attempts.start(task.id, agent=AGENT, run=False)
    assert started.task_id == task.id


async def test_a_pending_proposal_moves_to_no_other_step(
    engine: Engine, project: Project, attempt: Attempt
) -> None:
    first, second, *_ = await engine.workflow.steps(project.id)
    task = await engine.tasks.propose(attempt.id, "Cache the board", "")
    below = await engine.tasks.propose(attempt.id, "Below it", "")

    for move in (
        engine.moves.move(task.id, second.id),
        engine.tasks.update(task.id, step_id=second.id),
    ):
        with pytest.raises(Conflict) as refused:
            await move
        assert refused.value.code == "task_proposed"
    # The card flow's move leaves it where it is, without an error.
    assert await engine.moves.flow(task.id, second.id, "attempt started") is None
    assert (await engine.tasks.get(task.id)).step_id == first.id
    assert await engine.moves.history(task.id) == []
    # Within its own step it can be put elsewhere, and edited.
    moved = await engine.tasks.update(task.id, title="Cache the whole board", below=below.id)
    assert moved.position > below.position
    # Once accepted it moves like any task.
    await engine.tasks.accept(task.id)
    assert (await engine.moves.move(task.id, second.id)).step_id == second.id


async def test_a_gone_attempt_proposes_nothing(
    engine: Engine, project: Project, attempt: Attempt
) -> None:
    await engine.tasks.delete(attempt.task_id)  # its attempts go with it

    with pytest.raises(NotFound) as refused:
        await engine.tasks.propose(attempt.id, "From beyond", "")

    assert refused.value.code == "attempt_not_found"
    with pytest.raises(NotFound):
        await engine.attempts.report_progress(attempt.id, "still here?")


async def test_a_proposal_outlives_the_attempt_that_proposed_it(
    engine: Engine, project: Project, attempt: Attempt
) -> None:
    task = await engine.tasks.propose(attempt.id, "Keep me", "")
    await engine.attempts.delete(attempt.id)

    kept = await engine.tasks.get(task.id)
    assert (kept.proposed, kept.proposed_by) == (True, attempt.id)
    card = await engine.board.card(task.id)
    assert card.proposer_branch is None
    assert (await engine.tasks.accept(task.id)).proposed is False


async def test_the_board_names_the_proposing_attempts_branch(
    engine: Engine, attempt: Attempt
) -> None:
    task = await engine.tasks.propose(attempt.id, "Show me", "")
    assert (await engine.board.card(task.id)).proposer_branch == attempt.branch
    await engine.tasks.accept(task.id)
    assert (await engine.board.card(task.id)).proposer_branch is None


async def test_progress_is_one_clean_bounded_line_published_with_the_attempt(
    engine: Engine, attempt: Attempt
) -> None:
    seq = engine.bus.last_seq

    reported = await engine.attempts.report_progress(
        attempt.id, "Running\nthe \x1b[1mtests\x1b[0m\u202e " + "x" * 1000
    )

    assert reported.progress is not None
    assert "\n" not in reported.progress and "\x1b" not in reported.progress
    assert "\u202e" not in reported.progress
    assert reported.progress.startswith("Running the [1mtests[0m x")
    assert len(reported.progress) == MAX_PROGRESS_CHARS
    assert reported.progress_at is not None
    stored = await engine.attempts.get(attempt.id)
    assert (stored.progress, stored.progress_at) == (reported.progress, reported.progress_at)
    [updated] = events_of(engine, seq, "attempt.updated")
    assert (updated["id"], updated["progress"]) == (attempt.id, reported.progress)
    assert updated["task_id"] == attempt.task_id  # the board refreshes that card

    # The same line again: nothing written, nothing published.
    seq = engine.bus.last_seq
    again = await engine.attempts.report_progress(attempt.id, reported.progress)
    assert again.progress_at == reported.progress_at
    assert events_of(engine, seq, "attempt.updated") == []

    # Blank clears it.
    cleared = await engine.attempts.report_progress(attempt.id, " \n ")
    assert (cleared.progress, cleared.progress_at) == (None, None)
    assert [e["progress"] for e in events_of(engine, seq, "attempt.updated")] == [None]
