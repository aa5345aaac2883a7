"""Workflow steps: the board's columns, their prompt templates, their entry gates, and the
card flow's rule for where a card goes by itself."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from paddock.domain.entities import WorkflowStep
from paddock.domain.errors import InvalidInput
from paddock.domain.states import StepRole, TestKind, TestRunStatus
from paddock.domain.test_run import TestRun

# (name, colour, role) of the steps every new project starts with.
DEFAULT_STEPS: tuple[tuple[str, str, StepRole | None], ...] = (
    ("To do", "#64748b", None),
    ("In progress", "#2563eb", StepRole.in_progress),
    ("In review", "#d97706", StepRole.review),
    ("Done", "#16a34a", StepRole.done),
    ("Cancelled", "#9ca3af", None),
)

POSITION_GAP = 1024.0

# What a step's prompt template may say, as {{ name }}.
PROMPT_VARIABLES: dict[str, str] = {
    "task_title": "the task's title",
    "task_description": "the task's description",
    "step_name": "the name of the step the task enters",
    "previous_step": "the name of the step the task came from",
    "previous_summary": "what the last agent turn said at its end (its summary)",
    "test_failures": "the failing cases of the attempt's latest test run, one per line",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_TEMPLATE = 20_000


def position_between(before: float | None, after: float | None) -> float:
    """A position strictly between two neighbours (None = the end), so a move touches one row."""
    if before is None and after is None:
        return POSITION_GAP
    if before is None:
        assert after is not None
        return after - POSITION_GAP
    if after is None:
        return before + POSITION_GAP
    return (before + after) / 2


def check_step_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a step name needs 1 to 100 characters", code="bad_step_name")
    return name


def check_color(color: str) -> str:
    if not _COLOR.match(color):
        raise InvalidInput(f"{color!r} is not a colour like #2563eb", code="bad_color")
    return color.lower()


def check_template(template: str) -> str:
    """A prompt template naming only known variables."""
    if len(template) > MAX_TEMPLATE:
        raise InvalidInput(
            f"a prompt template has at most {MAX_TEMPLATE} characters", code="bad_prompt_template"
        )
    unknown = sorted({m for m in _PLACEHOLDER.findall(template) if m not in PROMPT_VARIABLES})
    if unknown:
        known = ", ".join(PROMPT_VARIABLES)
        raise InvalidInput(
            f"unknown variable(s) {', '.join(unknown)} in the prompt template (known: {known})",
            code="bad_prompt_template",
        )
    return template


def render_prompt(template: str, values: Mapping[str, str]) -> str:
    """The template with each {{ variable }} replaced (a value is never itself expanded)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template).strip()


@dataclass(frozen=True, slots=True)
class GateFailure:
    """One reason a task may not enter a gated step."""

    kind: TestKind
    reason: str
    test_run_id: str | None = None


def check_gate(
    gate: Sequence[TestKind], latest: Mapping[TestKind, TestRun], head: str | None
) -> list[GateFailure]:
    """Why the latest run of each gated test kind (of the task's current attempt) does not let
    the task in; empty when it may enter. A run of an older commit than `head` is stale."""
    failing: list[GateFailure] = []
    for kind in gate:
        run = latest.get(kind)
        label = f"{kind.value} tests"
        if run is None:
            failing.append(GateFailure(kind, f"the {label} have not run in this attempt"))
        elif run.status is TestRunStatus.running:
            failing.append(GateFailure(kind, f"the {label} are still running", run.id))
        elif run.status is not TestRunStatus.passed:
            why = f": {run.error}" if run.error else ""
            failing.append(GateFailure(kind, f"the latest {label} {run.status.value}{why}", run.id))
        elif head is not None and run.commit is not None and run.commit != head:
            failing.append(
                GateFailure(
                    kind,
                    f"the {label} passed on {run.commit[:10]}, not on the latest commit",
                    run.id,
                )
            )
    return failing


def check_gate_kinds(gate: Sequence[str]) -> list[TestKind]:
    try:
        kinds = [TestKind(kind) for kind in gate]
    except ValueError:
        raise InvalidInput(
            f"a gate lists test kinds (unit, e2e), not {list(gate)}", code="bad_gate"
        ) from None
    return sorted(set(kinds), key=kinds.index)


class FlowMoment(StrEnum):
    """When the card flow moves a card."""

    started = "started"  # an attempt started, or a follow-up's turn begins
    turn_ended = "turn_ended"  # the agent's turn ended: the attempt awaits review

    @property
    def role(self) -> StepRole:
        """The role of the step the card goes to."""
        return StepRole.in_progress if self is FlowMoment.started else StepRole.review

    @property
    def why(self) -> str:
        """The reason its moves record."""
        if self is FlowMoment.started:
            return "card flow: an attempt started"
        return "card flow: the agent's turn ended"


def step_with_role(steps: Sequence[WorkflowStep], role: StepRole) -> WorkflowStep | None:
    """The project's step with `role`: the first by position, should several claim it."""
    return next((s for s in sorted(steps, key=lambda s: s.position) if s.role is role), None)


def flow_target(
    steps: Sequence[WorkflowStep], current_step_id: str, moment: FlowMoment
) -> WorkflowStep | None:
    """Where the card flow moves a card in `current_step_id` at `moment`; None: it stays.

    The card goes to the step with the moment's role (`in_progress`, `review`), and only
    forward: from a step before that one. A card in a step with an automation is the workflow's
    to drive, so it stays, except from the in-progress step to review (that step is the flow's
    own). A card already at or past the target (in review, done) stays too, so a follow-up on
    a reviewed card does not pull it back.
    """
    target = step_with_role(steps, moment.role)
    current = next((s for s in steps if s.id == current_step_id), None)
    if target is None or current is None or current.position >= target.position:
        return None
    if current.automation is not None and current.role is not StepRole.in_progress:
        return None
    return target


@dataclass(frozen=True, slots=True)
class TaskMove:
    """A task changing step, kept as the card's history; a forced move past a gate says why,
    a move the gate refused (the card flow's: a person is asked instead) is kept too."""

    id: str
    task_id: str
    from_step_id: str | None
    to_step_id: str
    attempt_id: str | None
    forced: bool
    reason: str
    failing: list[GateFailure]
    automation: str | None  # what entering the step ran
    ran: str | None  # the id of what it ran: a follow-up, an attempt or a test run
    automation_error: str | None  # why the automation could not run
    created_at: datetime
    refused: bool = False  # the gate kept the task out: it stayed where it was
