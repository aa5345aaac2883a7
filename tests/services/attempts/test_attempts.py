"""Starting an attempt, driven through the engine on SQLite and PostgreSQL: what it costs on the
way to the agent (git processes, database round trips), its statuses and events, and that a
refused start leaves nothing behind."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paddock.domain.entities import AgentSpec, Scripts
from paddock.domain.errors import InvalidInput
from paddock.domain.states import AttemptStatus, FollowUpStatus, ProcessStatus, RunReason
from paddock.runtime import git
from paddock.services.engine import Engine
from tests.e2e.server import make_repo

pytestmark = pytest.mark.anyio


def sh_git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {f"src/f{i}.txt": f"{i}\n" for i in range(20)})


def count_calls(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> tuple[list[str], list[str]]:
    """Record each git process (its subcommand) and each database round trip from now on."""
    git_calls: list[str] = []
    db_calls: list[str] = []
    run_git, db_run = git.run_git, engine.ctx.db.run

    async def counted_git(cwd: Any, *args: str, **kwargs: Any) -> git.GitResult:
        git_calls.append(args[0])
        return await run_git(cwd, *args, **kwargs)

    async def counted_db(fn: Callable[..., Any]) -> Any:
        db_calls.append(getattr(fn, "__qualname__", repr(fn)))
        return await db_run(fn)

    monkeypatch.setattr("paddock.runtime.git.commands.run_git", counted_git)
    monkeypatch.setattr("paddock.runtime.git.worktrees.run_git", counted_git)
    monkeypatch.setattr(engine.ctx.db, "run", counted_db)
    return git_calls, db_calls


def events_since(engine: Engine, seq: int) -> list[str]:
    events = engine.bus.replay(seq) or []
    # resource_usage samples come as often as the clock says: not part of the sequence.
    return [f"{e.type}({e.data.get('status', '')})" for e in events if e.type != "resource_usage"]


async def test_start_takes_one_git_process_and_two_round_trips(
    engine: Engine, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = await engine.projects.register(str(repo))
    task = await engine.tasks.create(project.id, title="Fast start")
    git_calls, db_calls = count_calls(monkeypatch, engine)
    seq = engine.bus.last_seq

    attempt = await engine.attempts.start(task.id, agent=AgentSpec(command="true"))

    # The branch check is a look at the refs' files, the base commit what git wrote: one
    # process, `worktree add`.
    assert git_calls == ["worktree"]
    # Load + insert in one transaction; base commit, scripts and status in another. (The
    # run's own, its process's record, may come meanwhile: it gets ready while the second is
    # written.)
    own = [call for call in db_calls if not call.startswith("ProcessService.")]
    assert own == [
        "AttemptService.start.<locals>.create",
        "AttemptWorktrees.record.<locals>.record",
    ]
    assert attempt.status is AttemptStatus.running  # no setup script: straight to running
    assert attempt.base_commit == sh_git(repo, "rev-parse", "main")
    assert sh_git(Path(attempt.worktree_path), "rev-parse", "--abbrev-ref", "HEAD") == (
        attempt.branch
    )
    await engine.attempts.wait(attempt.id)
    events = events_since(engine, seq)
    assert [e for e in events if not e.startswith("task.")] == [
        "attempt.created(creating)",
        "attempt.updated(running)",
        "process.created(queued)",
        "process.updated(running)",
        "process.updated(succeeded)",
        "process.updated(succeeded)",  # again with its line count
        "process.updated(succeeded)",  # and with the commit after the turn
        "attempt.updated(awaiting_review)",
    ]
    # The card flow: to "In progress" once the agent runs (moving it never delays the agent;
    # its end may come before or after the short turn's), to "In review" as the turn ended,
    # then the status.
    assert [e for e in events if e.startswith("task.")] == ["task.updated()", "task.moved()"] * 2
    assert events.index("process.updated(running)") < events.index("task.updated()")
    assert events[-3:] == ["task.updated()", "task.moved()", "attempt.updated(awaiting_review)"]
    assert (await engine.attempts.get(attempt.id)).status is AttemptStatus.awaiting_review


async def test_start_with_setup_goes_through_setting_up(engine: Engine, repo: Path) -> None:
    project = await engine.projects.register(str(repo), scripts=Scripts(setup="true"))
    task = await engine.tasks.create(project.id, title="With setup")
    seq = engine.bus.last_seq

    attempt = await engine.attempts.start(task.id, agent=AgentSpec(command="true"))

    assert attempt.status is AttemptStatus.setting_up
    await engine.attempts.wait(attempt.id)
    statuses = [e for e in events_since(engine, seq) if e.startswith("attempt.")]
    assert statuses == [
        "attempt.created(creating)",
        "attempt.updated(setting_up)",
        "attempt.updated(running)",
        "attempt.updated(awaiting_review)",
    ]
    reasons = [p.reason for p in await engine.processes.list_for_attempt(attempt.id)]
    assert reasons == ["setup", "agent"]


async def test_bad_repo_config_leaves_nothing_behind(engine: Engine, repo: Path) -> None:
    (repo / ".paddock.toml").write_text("[scripts]\nsetpu = 'typo'\n")
    sh_git(repo, "add", ".paddock.toml")
    sh_git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "bad config")
    project = await engine.projects.register(str(repo))
    task = await engine.tasks.create(project.id, title="Bad config")

    with pytest.raises(InvalidInput) as err:
        await engine.attempts.start(task.id, agent=AgentSpec(command="true"), branch="bad-cfg")

    assert err.value.code == "bad_repo_config"
    assert await engine.attempts.list_for_task(task.id) == []
    assert sh_git(repo, "branch", "--list", "bad-cfg") == ""
    assert len(sh_git(repo, "worktree", "list", "--porcelain").split("\n\n")) == 1
    assert not any(engine.settings.storage.worktrees.glob("*/bad-cfg"))


async def test_a_stop_landing_as_a_turn_starts_still_stops_it(
    engine: Engine, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follow-up taken from the queue, its agent not yet launched: a stop that lands then
    finds no process to stop. It must stop the turn once it launches, not wait for its end
    (the builder's cancel hung on this: CI's ReadTimeout)."""
    project = await engine.projects.register(str(repo))
    task = await engine.tasks.create(project.id, title="Stopped between")
    attempt = await engine.attempts.start(task.id, agent=AgentSpec(command="true"))
    await engine.attempts.wait(attempt.id)
    runs = engine.attempts.runs
    turn_taken, stop_passed = asyncio.Event(), asyncio.Event()
    run_turn, stop_all = runs.turns.run, runs.processes.stop_all

    async def held_turn(*args: Any, **kwargs: Any) -> Any:
        turn_taken.set()
        await stop_passed.wait()  # the stop looked for processes and found none
        return await run_turn(*args, **kwargs)

    async def noted_stop_all(*args: Any, **kwargs: Any) -> Any:
        await stop_all(*args, **kwargs)
        stop_passed.set()

    monkeypatch.setattr(runs.turns, "run", held_turn)
    monkeypatch.setattr(runs.processes, "stop_all", noted_stop_all)
    follow_up = await engine.attempts.follow_up(
        attempt.id, "again", agent=AgentSpec(command="sleep 120")
    )
    await asyncio.wait_for(turn_taken.wait(), 30)
    # A guard against a hang, not a timing: the agent would sleep for two minutes.
    stopped = await asyncio.wait_for(engine.attempts.stop(attempt.id), 60)
    assert stopped.status is AttemptStatus.stopped
    processes = await engine.processes.list_for_attempt(attempt.id)
    agents = [p for p in processes if p.reason is RunReason.follow_up]
    assert agents and all(p.status is ProcessStatus.stopped for p in agents)
    (after,) = await engine.attempts.list_follow_ups(attempt.id)
    assert after.id == follow_up.id and after.status is FollowUpStatus.failed
