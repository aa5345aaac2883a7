"""Moving a task between steps: the target's gate, then its automation, in the task's
current attempt, so one attempt carries the whole trail (Refine → Build → QA → Done).

A gated step refuses a task whose current attempt's latest run of each gated test kind did not
pass on its latest commit (409 `gate_failed` listing why); a forced move needs a reason and is
recorded with what was failing. Entering a step with an automation runs it: `run_agent` queues
the step's prompt for the attempt's agent (or the step's own agent; a task with no attempt gets
one with that agent); `run_unit_tests` and `run_e2e_tests` start a test run once the attempt
is free. A task with no attempt gets no test run (its move says so): tests of a task with no
work would test the base branch, in a worktree nobody asked for.

A pending proposal (a task an agent proposed, not accepted yet) moves to no other step: 409
`task_proposed`, so no step's automation runs on it; the card flow leaves it alone.

The card flow (services/card_flow.py) moves cards through `flow`: the same move, but a gate's
refusal is kept in the card's history (a refused move), where a person sees it, instead of
being answered to nobody.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Task, WorkflowStep
from paddock.domain.entries import EntryKind
from paddock.domain.errors import Conflict, InvalidInput, PaddockError
from paddock.domain.events import EventType
from paddock.domain.junit import SUITE_SEPARATOR
from paddock.domain.states import AttemptStatus, Automation, LogStream, RunReason
from paddock.domain.tasks import check_not_proposed
from paddock.domain.workflow import (
    GateFailure,
    TaskMove,
    check_gate,
    position_between,
    render_prompt,
)
from paddock.runtime import git
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.attempts.attempts import AttemptService, default_prompt
from paddock.services.context import Context, log
from paddock.services.testing.test_runs import TestRunService
from paddock.store import attempts as attempt_store
from paddock.store import entries as entry_store
from paddock.store import logs as log_store
from paddock.store import processes as process_store
from paddock.store import steps as step_store
from paddock.store import task_moves as store
from paddock.store import tasks as task_store
from paddock.store import test_runs as test_run_store

FAILURES_IN_PROMPT = 20


def previous_summary(session: Session, attempt_id: str) -> str:
    """What the attempt's newest agent turn said at its end: its last assistant message, else
    (agents that print no stream, like a script) its last line of output."""
    turns = [
        p
        for p in process_store.list_processes(session, attempt_id)
        if p.reason in (RunReason.agent, RunReason.follow_up)
    ]
    if not turns:
        return ""
    turn = turns[-1]
    text = entry_store.last_text(session, turn.id, EntryKind.assistant_message)
    if text:
        return text.strip()
    lines = log_store.read_lines(session, turn.id, after=max(0, turn.line_count - 50), limit=50)
    said = [line.text for line in lines if line.stream is LogStream.stdout and line.text.strip()]
    return said[-1].strip() if said else ""


def test_failures(session: Session, attempt_id: str) -> str:
    run = test_run_store.latest_finished(session, attempt_id)
    if run is None:
        return ""
    cases = test_run_store.failing_cases(session, run.id, FAILURES_IN_PROMPT)
    lines = [
        f"- {SUITE_SEPARATOR.join(filter(None, (c.suite, c.name)))}: {c.message}" for c in cases
    ]
    if not lines and run.error:
        lines = [f"- the {run.kind.value} test run: {run.error}"]
    return "\n".join(lines)


class MoveService:
    def __init__(self, ctx: Context, attempts: AttemptService, test_runs: TestRunService) -> None:
        self.ctx = ctx
        self.attempts = attempts
        self.test_runs = test_runs
        self._automations: set[asyncio.Task[None]] = set()

    async def move(
        self,
        task_id: str,
        step_id: str,
        *,
        index: int | None = None,
        below: str | None = None,
        force: bool = False,
        reason: str = "",
    ) -> Task:
        """Put the task into `step_id` at `index` (or just `below` a card; else last)."""
        task, step, attempt = await self.ctx.db.run(lambda s: self._load(s, task_id, step_id))
        if step.id == task.step_id:
            return await self._place(task, step, index, below, None)
        check_not_proposed(task.proposed, task.title, "move it to another step")
        failing = await self._gate(step, attempt)
        if failing and not force:
            raise Conflict(
                f"{task.title!r} cannot enter {step.name!r}: "
                + "; ".join(f.reason for f in failing),
                code="gate_failed",
                failing=[asdict(f) for f in failing],
            )
        if force and failing and not reason.strip():
            raise InvalidInput("a forced move past a gate needs a reason", code="reason_required")
        move = await self.ctx.db.run(
            lambda s: store.record_move(
                s,
                task_id=task.id,
                from_step_id=task.step_id,
                to_step_id=step.id,
                attempt_id=attempt.id if attempt else None,
                forced=bool(failing),
                reason=reason.strip(),
                failing=failing,
                automation=step.automation.value if step.automation else None,
            )
        )
        moved = await self._place(task, step, index, below, move)
        if step.automation is not None:
            self._spawn(self._automate(move, moved, step, attempt))
        return moved

    async def flow(self, task_id: str, step_id: str, reason: str) -> TaskMove | None:
        """The card flow's move of the task into `step_id` (last in it), recorded with
        `reason`; when the step's gate refuses it, the task stays and the refusal is kept as
        a refused move (and published). None: the move was made, or the task is there."""
        task, step, attempt = await self.ctx.db.run(lambda s: self._load(s, task_id, step_id))
        if step.id == task.step_id or task.proposed:
            return None  # a pending proposal stays where it is (it has no attempt anyway)
        failing = await self._gate(step, attempt)
        if not failing:
            await self.move(task_id, step_id, reason=reason)
            return None
        refused = await self.ctx.db.run(
            lambda s: store.record_move(
                s,
                task_id=task.id,
                from_step_id=task.step_id,
                to_step_id=step.id,
                attempt_id=attempt.id if attempt else None,
                reason=reason,
                failing=failing,
                refused=True,
            )
        )
        log.info(
            "task %s stays out of %r: %s", task.id, step.name, "; ".join(f.reason for f in failing)
        )
        self.ctx.publish(EventType.task_moved, task.project_id, refused)
        return refused

    async def _gate(self, step: WorkflowStep, attempt: Attempt | None) -> list[GateFailure]:
        """Why the step's gate keeps the task (with its current `attempt`) out; [] lets it in."""
        if not step.gate:
            return []
        head = await self._head(attempt)
        latest = (
            await self.ctx.db.run(lambda s: test_run_store.latest_by_kind(s, attempt.id))
            if attempt
            else {}
        )
        return check_gate(step.gate, latest, head)

    @staticmethod
    def _load(
        session: Session, task_id: str, step_id: str
    ) -> tuple[Task, WorkflowStep, Attempt | None]:
        task = task_store.get_task(session, task_id)
        step = step_store.get_step(session, step_id)
        if step.project_id != task.project_id:
            raise InvalidInput("that step belongs to another project", code="step_not_in_project")
        latest = attempt_store.latest_for_tasks(session, [task.id]).get(task.id)
        attempt = latest[0] if latest else None
        if attempt is not None and attempt.status is AttemptStatus.vanished:
            attempt = None
        return task, step, attempt

    async def _head(self, attempt: Attempt | None) -> str | None:
        if attempt is None:
            return None
        try:
            return await git.rev_parse(await attempt_worktree(self.ctx, attempt), "HEAD")
        except PaddockError:
            return None

    async def _place(
        self,
        task: Task,
        step: WorkflowStep,
        index: int | None,
        below: str | None,
        move: TaskMove | None,
    ) -> Task:
        def place(session: Session) -> Task:
            position = None
            if below is not None:
                before, after = task_store.neighbours_below(
                    session, step.id, below or None, exclude=task.id
                )
                position = position_between(before, after)
            elif index is not None:
                before, after = task_store.neighbour_positions(
                    session, step.id, index, exclude=task.id
                )
                position = position_between(before, after)
            return task_store.update_task(session, task.id, step_id=step.id, position=position)

        moved = await self.ctx.db.run(place)
        self.ctx.publish(EventType.task_updated, moved.project_id, moved)
        if move is not None:
            self.ctx.publish(EventType.task_moved, moved.project_id, move)
        return moved

    # -- automations ------------------------------------------------------------------------------

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._automations.add(task)
        task.add_done_callback(self._automations.discard)

    async def _automate(
        self, move: TaskMove, task: Task, step: WorkflowStep, attempt: Attempt | None
    ) -> None:
        assert step.automation is not None
        ran: str | None = None
        error: str | None = None
        try:
            if step.automation is Automation.run_agent:
                attempt, ran = await self._run_agent(move, task, step, attempt)
            else:
                attempt, ran = await self._run_tests(task, step, attempt)
        except PaddockError as exc:
            error = exc.message
        except Exception as exc:
            log.exception("the automation of step %s for task %s crashed", step.id, task.id)
            error = str(exc)
        if error:
            log.warning(
                "task %s entered %r: its automation did not run: %s", task.id, step.name, error
            )
        attempt_id = attempt.id if attempt else None
        done = await self.ctx.db.run(
            lambda s: store.set_ran(s, move.id, attempt_id=attempt_id, ran=ran, error=error)
        )
        self.ctx.publish(EventType.task_moved, task.project_id, done)

    async def _run_agent(
        self, move: TaskMove, task: Task, step: WorkflowStep, attempt: Attempt | None
    ) -> tuple[Attempt, str]:
        prompt = await self.ctx.db.run(lambda s: self._prompt(s, task, step, move, attempt))
        if attempt is None:
            if step.agent is None:
                raise InvalidInput(
                    f"step {step.name!r} names no agent and the task has no attempt to run one",
                    code="no_agent",
                )
            attempt = await self.attempts.start(task.id, agent=step.agent, prompt=prompt)
            return attempt, attempt.id
        follow_up = await self.attempts.follow_up(
            attempt.id, prompt, agent=step.agent, step_id=step.id
        )
        return attempt, follow_up.id

    @staticmethod
    def _prompt(
        session: Session, task: Task, step: WorkflowStep, move: TaskMove, attempt: Attempt | None
    ) -> str:
        template = step_store.task_prompt(session, task.id, step.id) or step.prompt_template
        if not template.strip():
            return default_prompt(task)
        previous = ""
        if move.from_step_id:
            try:
                previous = step_store.get_step(session, move.from_step_id).name
            except PaddockError:
                previous = ""
        values = {
            "task_title": task.title,
            "task_description": task.description,
            "step_name": step.name,
            "previous_step": previous,
            "previous_summary": previous_summary(session, attempt.id) if attempt else "",
            "test_failures": test_failures(session, attempt.id) if attempt else "",
        }
        return render_prompt(template, values)

    async def _run_tests(
        self, task: Task, step: WorkflowStep, attempt: Attempt | None
    ) -> tuple[Attempt, str]:
        kind = step.automation.test_kind if step.automation else None
        assert kind is not None
        if attempt is None:
            raise Conflict(
                f"the {kind.value} tests did not run: {task.title!r} has no attempt to test "
                "(start one, then its tests can run)",
                code="no_attempt",
            )
        await self.attempts.wait(attempt.id)  # its setup and agent turns come first
        run = await self.test_runs.start(attempt.id, kind)
        return attempt, run.id

    # -- reading ----------------------------------------------------------------------------------

    async def history(self, task_id: str) -> list[TaskMove]:
        def load(session: Session) -> list[TaskMove]:
            task_store.get_task(session, task_id)
            return store.list_moves(session, task_id)

        return await self.ctx.db.run(load)

    async def close(self) -> None:
        for task in list(self._automations):
            task.cancel()
        if self._automations:
            await asyncio.wait(list(self._automations))
