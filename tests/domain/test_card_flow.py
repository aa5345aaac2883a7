"""The card flow's rule: which step a card goes to when an attempt starts or a turn ends."""

from __future__ import annotations

from paddock.domain.entities import WorkflowStep
from paddock.domain.states import Automation, StepRole
from paddock.domain.workflow import DEFAULT_STEPS, FlowMoment, flow_target, step_with_role


def steps(*specs: tuple[str, StepRole | None, Automation | None]) -> list[WorkflowStep]:
    return [
        WorkflowStep(name, "p", name, i, "#000000", automation=automation, role=role)
        for i, (name, role, automation) in enumerate(specs)
    ]


DEFAULT = steps(*((name, role, None) for name, _, role in DEFAULT_STEPS))


def target(board: list[WorkflowStep], current: str, moment: FlowMoment) -> str | None:
    step = flow_target(board, current, moment)
    return step.name if step else None


def test_new_projects_have_one_step_per_role():
    assert [s.name for s in DEFAULT if s.role] == ["In progress", "In review", "Done"]
    assert step_with_role(DEFAULT, StepRole.review) is DEFAULT[2]


def test_a_card_goes_to_in_progress_then_to_review():
    assert target(DEFAULT, "To do", FlowMoment.started) == "In progress"
    assert target(DEFAULT, "In progress", FlowMoment.turn_ended) == "In review"
    # An attempt started and ended before the card moved (e.g. its start was refused).
    assert target(DEFAULT, "To do", FlowMoment.turn_ended) == "In review"


def test_a_card_only_moves_forward():
    assert target(DEFAULT, "In review", FlowMoment.started) is None  # a follow-up on review
    assert target(DEFAULT, "In progress", FlowMoment.started) is None  # already there
    assert target(DEFAULT, "Done", FlowMoment.turn_ended) is None
    assert target(DEFAULT, "Cancelled", FlowMoment.started) is None


def test_a_card_in_a_step_with_an_automation_is_the_workflows():
    board = steps(
        ("To do", None, None),
        ("Refine", None, Automation.run_agent),
        ("In progress", StepRole.in_progress, Automation.run_agent),
        ("In review", StepRole.review, Automation.run_unit_tests),
        ("Done", StepRole.done, None),
    )
    assert target(board, "Refine", FlowMoment.started) is None
    assert target(board, "Refine", FlowMoment.turn_ended) is None
    # The in-progress step is the flow's own, whatever it runs on entry.
    assert target(board, "In progress", FlowMoment.turn_ended) == "In review"
    assert target(board, "To do", FlowMoment.started) == "In progress"


def test_without_the_role_nothing_moves():
    board = steps(("Backlog", None, None), ("Doing", None, None), ("Review", None, None))
    for moment in FlowMoment:
        assert target(board, "Backlog", moment) is None


def test_roles_are_found_by_role_not_by_name_or_order():
    board = steps(
        ("Ideas", None, None),
        ("QA", StepRole.review, None),
        ("Build", StepRole.in_progress, None),
    )
    assert target(board, "Ideas", FlowMoment.started) == "Build"
    assert target(board, "Ideas", FlowMoment.turn_ended) == "QA"
    # Build comes after QA on this board: from Build the review step is backwards.
    assert target(board, "Build", FlowMoment.turn_ended) is None


def test_each_moment_says_why_in_the_cards_history():
    assert FlowMoment.started.role is StepRole.in_progress
    assert FlowMoment.turn_ended.role is StepRole.review
    assert "attempt started" in FlowMoment.started.why
    assert "turn ended" in FlowMoment.turn_ended.why
