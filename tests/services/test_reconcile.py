"""Start-up reconciliation, driven through the engine's services on SQLite and PostgreSQL:
the database is made to agree with what really runs and what really exists on disk."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.orm import Session

from paddock.config import Settings
from paddock.domain.entities import AgentSpec, Attempt, Process, Project, Task
from paddock.domain.names import new_id
from paddock.domain.states import AttemptStatus, ProcessStatus, RunReason
from paddock.runtime import proctree
from paddock.services.engine import Engine
from paddock.store import attempts as attempt_store
from paddock.store import processes as process_store
from tests.e2e.server import make_repo

pytestmark = pytest.mark.anyio

T = TypeVar("T")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def worktree_paths(repo: Path) -> list[str]:
    out = git(repo, "worktree", "list", "--porcelain")
    return [
        line.removeprefix("worktree ") for line in out.splitlines() if line.startswith("worktree ")
    ]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"README.md": "# r\n"})


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Engine]:
    engine = Engine(settings)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()


async def project_and_task(engine: Engine, repo: Path) -> tuple[Project, Task]:
    project = await engine.projects.register(str(repo))
    task = await engine.tasks.create(project.id, title="Reconcile me")
    return project, task


async def finished_attempt(engine: Engine, task: Task) -> Attempt:
    attempt = await engine.attempts.start(task.id, agent=AgentSpec(command="echo hi"))
    await engine.attempts.wait(attempt.id)
    attempt = await engine.attempts.get(attempt.id)
    assert attempt.status is AttemptStatus.awaiting_review
    return attempt


async def in_store(engine: Engine, fn: Callable[[Session], T]) -> T:
    return await engine.ctx.db.run(fn)


async def test_orphan_worktrees_are_removed_and_pruned(settings: Settings, repo: Path, tmp_path):
    async with running(settings) as engine:
        _project, task = await project_and_task(engine, repo)
        attempt = await finished_attempt(engine, task)
    known = Path(attempt.worktree_path)
    group = known.parent
    assert group.parent == settings.storage.worktrees

    # A worktree made outside Paddock, in Paddock's worktrees dir: an orphan (e.g. left by a
    # crash between `git worktree add` and the database insert).
    orphan = group / "orphan"
    git(repo, "worktree", "add", "-q", "-b", "orphan-branch", str(orphan), "main")
    assert str(orphan) in worktree_paths(repo)
    # Folders that are not linked worktrees are not Paddock's to delete.
    notes = group / "notes"
    notes.mkdir()
    (notes / "keep.txt").write_text("mine\n")
    clone = settings.storage.worktrees / "elsewhere" / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    (settings.storage.worktrees / "stray.txt").write_text("a file, not a folder\n")

    async with running(settings) as engine:
        report = engine.last_reconcile
        assert report.removed_worktrees == [str(orphan)]
        assert not orphan.exists()
        assert str(orphan) not in worktree_paths(repo)  # pruned from git's own list
        assert (notes / "keep.txt").read_text() == "mine\n"
        assert (clone / ".git").is_dir() and (clone / "README.md").is_file()
        assert (settings.storage.worktrees / "stray.txt").is_file()
        # The attempt's own worktree is known: it stays, and so does the attempt.
        assert (known / "README.md").is_file()
        assert str(known) in worktree_paths(repo)
        assert (await engine.attempts.get(attempt.id)).status is AttemptStatus.awaiting_review
        # Branches are never deleted by reconciliation: they may hold work.
        assert git(repo, "branch", "--list", "orphan-branch").strip() != ""
        assert report.vanished_attempts == [] and report.interrupted_attempts == []


async def test_attempt_whose_worktree_is_gone_becomes_vanished(settings: Settings, repo: Path):
    async with running(settings) as engine:
        _project, task = await project_and_task(engine, repo)
        gone = await finished_attempt(engine, task)
        kept = await finished_attempt(engine, task)
    shutil.rmtree(gone.worktree_path)

    async with running(settings) as engine:
        assert engine.last_reconcile.vanished_attempts == [gone.id]
        after = await engine.attempts.get(gone.id)
        assert after.status is AttemptStatus.vanished
        assert after.error == "the worktree is gone from disk"
        assert (await engine.attempts.get(kept.id)).status is AttemptStatus.awaiting_review
        assert gone.worktree_path not in worktree_paths(repo)  # git forgot it too
        assert kept.worktree_path in worktree_paths(repo)

    async with running(settings) as engine:  # a vanished attempt stays vanished, quietly
        assert engine.last_reconcile.vanished_attempts == []
        assert (await engine.attempts.get(gone.id)).status is AttemptStatus.vanished


def spawn_sleeper(env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    # Its own session, like a supervised process: the leader of its group.
    return subprocess.Popen(
        ["sleep", "60"], start_new_session=True, stdin=subprocess.DEVNULL, env=env
    )


async def busy_attempt(
    engine: Engine, task: Task, status: AttemptStatus, worktree: Path
) -> Attempt:
    """An attempt row as a server that died mid-run left it."""
    worktree.mkdir(parents=True)

    def create(session: Session) -> Attempt:
        attempt = attempt_store.create_attempt(
            session,
            attempt_id=new_id(),
            task_id=task.id,
            project_id=task.project_id,
            branch=f"paddock/{worktree.name}",
            base_branch="main",
            worktree_path=str(worktree),
            agent=AgentSpec(command="sleep 60"),
            prompt="p",
        )
        return attempt_store.set_attempt_status(session, attempt.id, status)

    return await in_store(engine, create)


async def running_process(
    engine: Engine, attempt: Attempt, pid: int | None, start_time: int | None
) -> Process:
    def create(session: Session) -> Process:
        proc = process_store.create_process(
            session,
            process_id=new_id(),
            attempt_id=attempt.id,
            reason=RunReason.agent,
            command=["sleep", "60"],
        )
        if pid is None:
            return proc  # still queued
        return process_store.mark_running(session, proc.id, pid=pid, start_time=start_time)

    return await in_store(engine, create)


async def test_processes_left_running_are_killed_or_marked_lost(
    settings: Settings, repo: Path, tmp_path: Path
):
    ours = spawn_sleeper()  # what an earlier server started and did not stop
    stranger = spawn_sleeper()  # a live process that merely has a recorded pid
    try:
        ours_start = proctree.start_time(ours.pid)
        stranger_start = proctree.start_time(stranger.pid)
        assert ours_start is not None and stranger_start is not None
        async with running(settings) as engine:
            _project, task = await project_and_task(engine, repo)
            busy = await busy_attempt(engine, task, AttemptStatus.running, tmp_path / "wt-a")
            setting_up = await busy_attempt(
                engine, task, AttemptStatus.setting_up, tmp_path / "wt-b"
            )
            idle = await finished_attempt(engine, task)
            killed = await running_process(engine, busy, ours.pid, ours_start)
            # The same pid, a different start time: the pid was recycled by another process.
            lost = await running_process(engine, setting_up, stranger.pid, stranger_start + 1)
            queued = await running_process(engine, setting_up, None, None)
            assert engine.processes.running_ids() == []  # none of them is this engine's

        async with running(settings) as engine:
            report = engine.last_reconcile
            assert report.stopped == [killed.id]
            assert sorted(report.lost) == sorted([lost.id, queued.id])
            assert sorted(report.interrupted_attempts) == sorted([busy.id, setting_up.id])

            # (c) the live process with the recorded start time was stopped ...
            assert ours.wait(timeout=10) == -signal.SIGTERM
            after = await engine.processes.get(killed.id)
            assert after.status is ProcessStatus.stopped
            assert after.error == "still running after a server restart: stopped"
            assert after.finished_at is not None
            # ... the one whose start time does not match was left alone, and marked lost.
            assert stranger.poll() is None
            assert proctree.is_alive(stranger.pid, stranger_start)
            for proc in (lost, queued):
                after = await engine.processes.get(proc.id)
                assert after.status is ProcessStatus.lost
                assert after.error == "the server stopped while it ran; its end is unknown"

            # (d) attempts that were busy are failed, and say why.
            for attempt in (busy, setting_up):
                after_attempt = await engine.attempts.get(attempt.id)
                assert after_attempt.status is AttemptStatus.failed
                assert after_attempt.error is not None
                assert after_attempt.error.startswith("interrupted")
            assert (await engine.attempts.get(idle.id)).status is AttemptStatus.awaiting_review

        async with running(settings) as engine:  # nothing left to reconcile
            report = engine.last_reconcile
            assert (report.stopped, report.lost, report.interrupted_attempts) == ([], [], [])
        assert stranger.poll() is None
    finally:
        for child in (ours, stranger):
            if child.poll() is None:
                child.kill()
            child.wait()


async def test_escaped_descendants_are_found_by_their_tag(
    settings: Settings, repo: Path, tmp_path: Path
):
    """A process that left its group (setsid) but kept its PADDOCK_PROCESS_ID tag is stopped,
    even when the recorded leader is long gone."""
    process_id = new_id()
    escaped = spawn_sleeper({"PATH": "/usr/bin:/bin", proctree.TAG_VARIABLE: process_id})
    try:
        async with running(settings) as engine:
            _project, task = await project_and_task(engine, repo)
            busy = await busy_attempt(engine, task, AttemptStatus.running, tmp_path / "wt")

            def create(session: Session) -> Process:
                process_store.create_process(
                    session,
                    process_id=process_id,
                    attempt_id=busy.id,
                    reason=RunReason.agent,
                    command=["sleep", "60"],
                )
                # A leader pid that no longer exists (pid_max is far below 2**31 - 1).
                return process_store.mark_running(session, process_id, pid=2**31 - 1, start_time=1)

            await in_store(engine, create)

        async with running(settings) as engine:
            assert engine.last_reconcile.lost == [process_id]
            assert escaped.wait(timeout=10) == -signal.SIGTERM
            assert (await engine.processes.get(process_id)).status is ProcessStatus.lost
    finally:
        if escaped.poll() is None:
            escaped.kill()
        escaped.wait()


async def test_a_merged_attempt_whose_branch_went_is_reported_not_vanished(
    settings: Settings, repo: Path
):
    async with running(settings) as engine:
        _project, task = await project_and_task(engine, repo)
        attempt = await engine.attempts.start(
            task.id, agent=AgentSpec(command="echo changed > README.md")
        )
        await engine.attempts.wait(attempt.id)
        await engine.merges.merge(attempt.id, remove_worktree=True)
        assert engine.last_reconcile.missing_branches == []
    git(repo, "branch", "-D", attempt.branch)  # deleted outside Paddock

    async with running(settings) as engine:
        assert engine.last_reconcile.missing_branches == [attempt.id]
        assert engine.last_reconcile.vanished_attempts == []  # the merge removed it on purpose
        after = await engine.attempts.get(attempt.id)
        assert after.merged is not None and after.status is AttemptStatus.merged


async def test_new_attempts_take_their_branch_from_the_template(settings: Settings, repo: Path):
    templated = settings.model_copy(
        update={"git": settings.git.model_copy(update={"branch_template": "ai/{title}/{id}"})}
    )
    async with running(templated) as engine:
        _project, task = await project_and_task(engine, repo)
        attempt = await finished_attempt(engine, task)
        assert attempt.branch == f"ai/reconcile-me/{attempt.id[:8]}"
        assert git(repo, "branch", "--list", attempt.branch).strip().endswith(attempt.branch)


async def test_an_attempt_left_creating_is_undone(settings: Settings, repo: Path, tmp_path: Path):
    """The server died just after `git worktree add` ran: the worktree and the branch it made
    are removed, as a failure to make them would have, and the attempt says so."""
    worktree = tmp_path / "wt-new"
    async with running(settings) as engine:
        _project, task = await project_and_task(engine, repo)

        def create(session: Session) -> Attempt:
            return attempt_store.create_attempt(
                session,
                attempt_id=new_id(),
                task_id=task.id,
                project_id=task.project_id,
                branch="paddock/new",
                base_branch="main",
                worktree_path=str(worktree),
                agent=AgentSpec(command="true"),
                prompt="p",
            )

        attempt = await in_store(engine, create)
        assert attempt.status is AttemptStatus.creating
    git(repo, "worktree", "add", "-q", "-b", "paddock/new", str(worktree), "main")

    async with running(settings) as engine:
        assert engine.last_reconcile.interrupted_attempts == [attempt.id]
        after = await engine.attempts.get(attempt.id)
        assert after.status is AttemptStatus.failed
        assert after.error is not None and "worktree was being made" in after.error
        assert str(worktree) not in worktree_paths(repo)
        assert not worktree.exists()
        assert git(repo, "branch", "--list", "paddock/new").strip() == ""


def rebase_stops(worktree: Path, onto: str) -> bool:
    identity = ["-c", "user.name=u", "-c", "user.email=u@u"]
    done = subprocess.run(
        ["git", *identity, "rebase", onto], cwd=worktree, capture_output=True, check=False
    )
    return done.returncode != 0


async def test_an_attempt_left_mid_rebase_becomes_conflicted(settings: Settings, repo: Path):
    """git stopped a rebase at a conflict and the server died before it recorded it: the
    attempt is `conflicted`, listing the files, so that it can be continued or aborted."""
    async with running(settings) as engine:
        _project, task = await project_and_task(engine, repo)
        attempt = await engine.attempts.start(
            task.id, agent=AgentSpec(command="echo theirs > README.md")
        )
        await engine.attempts.wait(attempt.id)
    worktree = Path(attempt.worktree_path)
    (repo / "README.md").write_text("ours\n")
    git(repo, "-c", "user.name=u", "-c", "user.email=u@u", "commit", "-qam", "main moves")
    assert rebase_stops(worktree, "main")  # at the conflict

    async with running(settings) as engine:
        assert engine.last_reconcile.rebasing_attempts == [attempt.id]
        after = await engine.attempts.get(attempt.id)
        assert after.status is AttemptStatus.conflicted
        assert after.error is not None and "README.md" in after.error
        aborted = await engine.rebases.abort(attempt.id)
        assert aborted.status is AttemptStatus.awaiting_review
