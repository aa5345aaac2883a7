"""The user's MCP tools: each one action of the JSON API, as thin as its route.

A tool takes its route's input model (mcp/inputs.py), calls the same service method, and answers
the same public read model's JSON; a refusal is the service's PaddockError, answered with its
code by mcp/server.py. The table `TOOLS` is what `tools/list` shows, in this order."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from paddock.domain.errors import NotFound
from paddock.domain.public import (
    AttemptPublic,
    DiffPublic,
    FollowUpPublic,
    LogLinePublic,
    PreviewPublic,
    ProcessPublic,
    ProjectPublic,
    TaskPublic,
    TestCaseResultPublic,
    TestRunPublic,
    WorkflowStepPublic,
)
from paddock.inputs import AttemptCreate, TaskUpdate
from paddock.mcp.inputs import (
    AttemptRef,
    FollowUp,
    LogTail,
    Merge,
    NewAttempt,
    NewTask,
    NoInput,
    ProcessQuery,
    ProcessRef,
    ProjectRef,
    TaskChange,
    TaskMove,
    TaskQuery,
    TaskRef,
    TestRunQuery,
    TestRunRef,
    body_of,
)
from paddock.services.engine import Engine

Json = Any
M = TypeVar("M", bound=BaseModel)
Run = Callable[[Engine, Any], Awaitable[Json]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input: type[BaseModel]
    run: Run
    read_only: bool
    destructive: bool


TOOLS: dict[str, ToolSpec] = {}


def tool(
    input_model: type[M], *, read_only: bool = False, destructive: bool = False
) -> Callable[[Callable[[Engine, M], Awaitable[Json]]], Callable[[Engine, M], Awaitable[Json]]]:
    """Registers the function as the tool of its name; its docstring is the description."""

    def register(
        run: Callable[[Engine, M], Awaitable[Json]],
    ) -> Callable[[Engine, M], Awaitable[Json]]:
        name = run.__name__
        TOOLS[name] = ToolSpec(
            name, inspect.getdoc(run) or name, input_model, run, read_only, destructive
        )
        return run

    return register


def dump(model: BaseModel) -> Json:
    return model.model_dump(mode="json", by_alias=True)


def dump_all(models: list[Any]) -> list[Json]:
    return [dump(model) for model in models]


# --- projects and their board ----------------------------------------------------------------


@tool(NoInput, read_only=True)
async def list_projects(engine: Engine, _: NoInput) -> Json:
    """Every project (a git repository on the board), with its scripts and settings."""
    return dump_all([ProjectPublic.of(p) for p in await engine.projects.list_all()])


@tool(ProjectRef, read_only=True)
async def get_project(engine: Engine, args: ProjectRef) -> Json:
    """One project."""
    return dump(ProjectPublic.of(await engine.projects.get(args.project_id)))


@tool(ProjectRef, read_only=True)
async def list_steps(engine: Engine, args: ProjectRef) -> Json:
    """A project's workflow steps (the board's columns), in order: their ids are what
    create_task, update_task and move_task take as step_id."""
    return dump_all(
        [WorkflowStepPublic.of(s) for s in await engine.workflow.steps(args.project_id)]
    )


# --- tasks -------------------------------------------------------------------------------------


@tool(TaskQuery, read_only=True)
async def list_tasks(engine: Engine, args: TaskQuery) -> Json:
    """A project's tasks (cards), or one step's."""
    return json.loads(await engine.tasks.list_json(args.project_id, args.step_id))


@tool(TaskRef, read_only=True)
async def get_task(engine: Engine, args: TaskRef) -> Json:
    """One task."""
    return dump(TaskPublic.of(await engine.tasks.get(args.task_id)))


@tool(NewTask)
async def create_task(engine: Engine, args: NewTask) -> Json:
    """Add a task to a project's board: in its first step unless step_id names another."""
    created = await engine.tasks.create(
        args.project_id, title=args.title, description=args.description, step_id=args.step_id
    )
    return dump(TaskPublic.of(created))


@tool(TaskChange)
async def update_task(engine: Engine, args: TaskChange) -> Json:
    """Change a task's title or description, or its place (step_id, index, below): another
    step is a move, and that step's gate applies."""
    changes = body_of(args, TaskUpdate).changes()
    return dump(TaskPublic.of(await engine.tasks.update(args.task_id, **changes)))


@tool(TaskMove)
async def move_task(engine: Engine, args: TaskMove) -> Json:
    """Move a task into another step: its gate applies (refused with `gate_failed` unless
    force, with a reason), then its automation runs in the task's current attempt."""
    moved = await engine.moves.move(
        args.task_id,
        args.step_id,
        index=args.position,
        below=args.below,
        force=args.force,
        reason=args.reason,
    )
    return dump(TaskPublic.of(moved))


@tool(TaskRef, destructive=True)
async def delete_task(engine: Engine, args: TaskRef) -> Json:
    """Delete a task with its attempts (their processes stopped, worktrees removed)."""
    await engine.tasks.delete(args.task_id)
    return {"deleted": args.task_id}


@tool(TaskRef)
async def accept_task(engine: Engine, args: TaskRef) -> Json:
    """Accept a task an agent proposed: it becomes an ordinary task (not_proposed otherwise)."""
    return dump(TaskPublic.of(await engine.tasks.accept(args.task_id)))


@tool(TaskRef, destructive=True)
async def dismiss_task(engine: Engine, args: TaskRef) -> Json:
    """Dismiss a task an agent proposed: it is deleted (not_proposed for any other task)."""
    await engine.tasks.dismiss(args.task_id)
    return {"dismissed": args.task_id}


# --- attempts ----------------------------------------------------------------------------------


@tool(TaskRef, read_only=True)
async def list_attempts(engine: Engine, args: TaskRef) -> Json:
    """A task's attempts, each a branch, a worktree and a sandbox."""
    return dump_all(
        [AttemptPublic.of(a) for a in await engine.attempts.list_for_task(args.task_id)]
    )


@tool(AttemptRef, read_only=True)
async def get_attempt(engine: Engine, args: AttemptRef) -> Json:
    """One attempt: its status, branch, agent."""
    return dump(AttemptPublic.of(await engine.attempts.get(args.attempt_id)))


@tool(NewAttempt)
async def start_attempt(engine: Engine, args: NewAttempt) -> Json:
    """Start an attempt at a task: a new branch and worktree from base_branch, the agent
    profile (and variant) run on the prompt (blank: the task's text) in its sandbox."""
    started = await engine.attempts.start(args.task_id, **body_of(args, AttemptCreate).arguments())
    return dump(AttemptPublic.of(started))


@tool(AttemptRef)
async def stop_attempt(engine: Engine, args: AttemptRef) -> Json:
    """Stop what the attempt runs (its agent, dev servers, tests)."""
    return dump(AttemptPublic.of(await engine.attempts.stop(args.attempt_id)))


@tool(FollowUp)
async def send_follow_up(engine: Engine, args: FollowUp) -> Json:
    """Queue a prompt for the attempt's agent: it runs when the agent is free (at once when
    idle), resuming the agent's own session."""
    return dump(FollowUpPublic.of(await engine.attempts.follow_up(args.attempt_id, args.prompt)))


@tool(Merge, destructive=True)
async def merge_attempt(engine: Engine, args: Merge) -> Json:
    """Merge the attempt into its base branch. Refused, nothing changed, when it is busy
    (`attempt_busy`), has uncommitted changes (`attempt_uncommitted`), its base moved on
    (`base_moved`: rebase first), has nothing to merge, or the base is checked out with
    uncommitted changes (`base_checkout_dirty`). Then its task moves to Done."""
    merged = await engine.merges.merge(
        args.attempt_id,
        args.strategy,
        message=args.message,
        remove_worktree=args.remove_worktree,
        delete_branch=args.delete_branch,
    )
    return dump(AttemptPublic.of(merged))


# --- what an attempt did -----------------------------------------------------------------------


@tool(ProcessQuery, read_only=True)
async def list_processes(engine: Engine, args: ProcessQuery) -> Json:
    """The attempt's processes (setup, agent turns, dev servers, tests), oldest first."""
    await engine.attempts.get(args.attempt_id)
    found = await engine.processes.list_for_attempt(
        args.attempt_id, include_dropped=args.include_dropped
    )
    return dump_all([ProcessPublic.of(p) for p in found])


@tool(ProcessRef, read_only=True)
async def get_process(engine: Engine, args: ProcessRef) -> Json:
    """One process: its status, exit code, line count."""
    return dump(ProcessPublic.of(await engine.processes.get(args.process_id)))


@tool(LogTail, read_only=True)
async def read_log_tail(engine: Engine, args: LogTail) -> Json:
    """The last lines of an attempt's log: its newest process's, or process_id's."""
    processes = await engine.processes.list_for_attempt(args.attempt_id)
    if args.process_id is not None:
        processes = [p for p in processes if p.id == args.process_id]
    if not processes:
        await engine.attempts.get(args.attempt_id)  # an unknown attempt: its own 404
        raise NotFound("the attempt has no such process", code="process_not_found")
    process = processes[-1]
    lines = await engine.logs.tail(process.id, args.lines)
    return {
        "process": dump(ProcessPublic.of(process)),
        "lines": dump_all(LogLinePublic.of_many(lines)),
    }


@tool(AttemptRef, read_only=True)
async def get_diff_summary(engine: Engine, args: AttemptRef) -> Json:
    """What the attempt changed against its base branch, file by file (status, lines added
    and removed), without the patches."""
    return dump(DiffPublic.of(await engine.diffs.diff(args.attempt_id, patches=False)))


@tool(TestRunQuery, read_only=True)
async def list_test_runs(engine: Engine, args: TestRunQuery) -> Json:
    """The attempt's test runs, newest first, with their counts and status."""
    runs = await engine.test_runs.for_attempt(args.attempt_id, args.kind)
    return dump_all([TestRunPublic.of(r) for r in runs])


@tool(TestRunRef, read_only=True)
async def get_test_run(engine: Engine, args: TestRunRef) -> Json:
    """A test run with its failing cases (the first 100), each with its message and output."""
    detail = await engine.test_runs.detail(args.run_id)
    return {
        "run": dump(TestRunPublic.of(detail.run)),
        "failures": dump_all(TestCaseResultPublic.of_many(detail.failures)),
    }


@tool(AttemptRef, read_only=True)
async def list_previews(engine: Engine, args: AttemptRef) -> Json:
    """The attempt's previews (its running dev servers) with their URLs and status."""
    previews = engine.previews
    found = await previews.list_for_attempt(args.attempt_id)
    return dump_all([PreviewPublic.of(previews.view(p)) for p in found])
