"""The board view on SQLite and PostgreSQL: paged columns, filtering, latest attempts, where a
card goes, and moves with `below`."""

from __future__ import annotations

from pathlib import Path

import pytest

from paddock.domain.entities import AgentSpec, Project
from paddock.domain.errors import Conflict
from paddock.services.engine import Engine
from tests.e2e.server import make_repo

pytestmark = pytest.mark.anyio


@pytest.fixture
async def project(engine: Engine, tmp_path: Path) -> Project:
    repo = make_repo(tmp_path / "repo", {"README.md": "# r\n"})
    return await engine.projects.register(str(repo))


async def test_columns_are_paged_and_counted(engine: Engine, project: Project):
    for i in range(7):
        await engine.tasks.create(project.id, title=f"card {i}")
    board = await engine.board.load(project.id, limit=3)
    todo = board.columns[0]
    assert [c.step.name for c in board.columns] == [
        "To do",
        "In progress",
        "In review",
        "Done",
        "Cancelled",
    ]
    assert [card.task.title for card in todo.cards] == ["card 0", "card 1", "card 2"]
    assert (todo.total, todo.more) == (7, 4)
    rest = await engine.board.column(todo.step.id, offset=3, limit=3)
    assert [card.task.title for card in rest.cards] == ["card 3", "card 4", "card 5"]
    assert rest.more == 1
    assert all(c.total == 0 and c.cards == [] for c in board.columns[1:])


async def test_a_page_below_a_card_neither_repeats_nor_skips(engine: Engine, project: Project):
    tasks = [await engine.tasks.create(project.id, title=f"card {i}") for i in range(7)]
    board = await engine.board.load(project.id, limit=3)
    todo = board.columns[0]
    assert (todo.next_page, todo.page_size) == (4, 50)  # what "Show N more" promises
    assert not board.empty
    last = todo.cards[-1].task.position
    # Meanwhile a card moves to the top and one of the loaded ones leaves: an offset of 3
    # would now repeat "card 2"; the page below the last loaded card does not.
    moved = await engine.tasks.create(project.id, title="moved", step_id=board.columns[1].step.id)
    await engine.tasks.update(moved.id, step_id=todo.step.id, below="")
    await engine.tasks.update(tasks[0].id, step_id=board.columns[1].step.id)
    rest = await engine.board.column(todo.step.id, after=last, limit=3)
    assert [card.task.title for card in rest.cards] == ["card 3", "card 4", "card 5"]
    assert (rest.offset, rest.total, rest.more) == (3, 7, 1)
    filtered = await engine.board.column(todo.step.id, after=last, query="card 6")
    assert [card.task.title for card in filtered.cards] == ["card 6"]
    assert (filtered.offset, filtered.more) == (0, 0)


async def test_only_a_board_without_tasks_is_empty(engine: Engine, project: Project):
    assert (await engine.board.load(project.id)).empty
    await engine.tasks.create(project.id, title="one")
    assert not (await engine.board.load(project.id)).empty
    assert not (await engine.board.load(project.id, query="nothing matches")).empty


async def test_filter_matches_title_or_description_in_any_case(engine: Engine, project: Project):
    await engine.tasks.create(project.id, title="Fix LOGIN page")
    await engine.tasks.create(project.id, title="Other", description="the login form breaks")
    await engine.tasks.create(project.id, title="100% done_ish")
    await engine.tasks.create(project.id, title="Unrelated")
    board = await engine.board.load(project.id, query=" login ")
    assert sorted(c.task.title for c in board.columns[0].cards) == ["Fix LOGIN page", "Other"]
    assert board.columns[0].total == 2
    # LIKE wildcards in the text are literal characters.
    literal = await engine.board.load(project.id, query="0% done_")
    assert [c.task.title for c in literal.columns[0].cards] == ["100% done_ish"]
    assert (await engine.board.load(project.id, query="_")).columns[0].total == 1


async def test_cards_carry_the_newest_attempt(engine: Engine, project: Project):
    task = await engine.tasks.create(project.id, title="Has attempts")
    await engine.tasks.create(project.id, title="Has none")
    for command in ("echo one", "echo two"):
        attempt = await engine.attempts.start(task.id, agent=AgentSpec(command=command))
        await engine.attempts.wait(attempt.id)
    card = await engine.board.card(task.id)
    assert card.attempt is not None and card.attempt.id == attempt.id
    assert card.attempt_count == 2
    board = await engine.board.load(project.id)
    # The card flow may have moved the card: look in every column.
    by_title = {c.task.title: c for column in board.columns for c in column.cards}
    assert by_title["Has none"].attempt is None and by_title["Has none"].attempt_count == 0
    assert by_title["Has attempts"].attempt == card.attempt


async def test_placement_names_the_card_above(engine: Engine, project: Project):
    a = await engine.tasks.create(project.id, title="alpha")
    b = await engine.tasks.create(project.id, title="beta")
    c = await engine.tasks.create(project.id, title="alphabet")
    first = await engine.board.placement(a.id)
    assert first is not None and first.after is None
    third = await engine.board.placement(c.id)
    assert third is not None and third.after == b.id
    # Among matching cards only: beta is filtered out, so alphabet goes below alpha.
    filtered = await engine.board.placement(c.id, query="alpha")
    assert filtered is not None and filtered.after == a.id
    assert await engine.board.placement(b.id, query="alpha") is None


async def test_moving_below_a_card_and_to_the_top(engine: Engine, project: Project):
    titles = ["one", "two", "three", "four"]
    tasks = [await engine.tasks.create(project.id, title=t) for t in titles]
    one, two, three, four = tasks
    await engine.tasks.update(four.id, below=one.id)
    await engine.tasks.update(three.id, below="")
    board = await engine.board.load(project.id)
    assert [c.task.title for c in board.columns[0].cards] == ["three", "one", "four", "two"]
    steps = [c.step for c in board.columns]
    await engine.tasks.update(two.id, step_id=steps[1].id, below="")
    await engine.tasks.update(one.id, step_id=steps[1].id, below=two.id)
    board = await engine.board.load(project.id)
    assert [c.task.title for c in board.columns[1].cards] == ["two", "one"]
    with pytest.raises(Conflict) as refused:  # the anchor must be in the target column
        await engine.tasks.update(three.id, step_id=steps[1].id, below=four.id)
    assert refused.value.code == "bad_anchor"
    counts = dict((s.name, n) for s, n in await engine.board.counts(project.id))
    assert counts == {"To do": 2, "In progress": 2, "In review": 0, "Done": 0, "Cancelled": 0}
