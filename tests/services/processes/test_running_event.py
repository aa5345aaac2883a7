"""`running` is the fact, not a promise: a sandboxed process is published `running` only once
its command was exec'd inside the sandbox, and never when it could not start there.

The check happens at the moment of publishing (a wrapper around the bus's `publish`, which
runs on the server's loop): the host's /proc is looked at for the command itself among the
process's tagged processes. Its executable is set by the kernel in the `execve` before the
descriptor Paddock waits on is closed, so the check holds whatever the timing; had `running`
gone out when the launch returned (as it used to), the launch chain (bwrap setting the
sandbox up) would still be running instead."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from paddock.domain.entities import AgentSpec
from paddock.domain.events import EventType
from paddock.domain.sandbox import Provider, SandboxConfig
from paddock.domain.states import ProcessStatus, RunReason
from paddock.services.engine import Engine
from paddock.services.processes.process_request import ProcessRequest
from tests.e2e.server import make_repo
from tests.runtime.sandbox.test_exec_signal import executables

pytestmark = pytest.mark.anyio

# bash stays the agent's process (a background job and `wait`): its executable says it runs.
COMMAND = "sleep 30 & wait"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"README.md": "# running\n"})


def bwrap_or_fail(engine: Engine) -> None:
    """scripts/install provides bwrap: without it the test fails (CI must not lose it quietly)."""
    problem = engine.ctx.sandboxes.problem(Provider.bwrap)
    if problem is not None:
        pytest.fail(f"bwrap cannot run here: {problem}", pytrace=False)


def watch_publishing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, bash: str
) -> list[dict[str, Any]]:
    """Every process event, with whether the process's command (bash) was running inside
    its sandbox at the moment it was published."""
    seen: list[dict[str, Any]] = []
    publish = engine.bus.publish

    def watched(type_: EventType, project_id: str | None, payload: object) -> Any:
        event = publish(type_, project_id, payload)
        if type_ is EventType.process_updated:
            data = dict(event.data)
            data["command_ran"] = bash in executables(data["id"])
            seen.append(data)
        return event

    monkeypatch.setattr(engine.bus, "publish", watched)
    return seen


async def test_running_is_published_once_the_command_runs_in_its_sandbox(
    engine: Engine, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bwrap_or_fail(engine)
    bash = os.path.realpath(shutil.which("bash") or "bash")
    project = await engine.projects.register(str(repo))
    for i in range(3):  # the first launch joins its cgroup on the way, the next ones a spare's
        task = await engine.tasks.create(project.id, title=f"Running {i}")
        seen = watch_publishing(engine, monkeypatch, bash)
        attempt = await engine.attempts.start(
            task.id, agent=AgentSpec(command=COMMAND), sandbox=SandboxConfig(Provider.bwrap)
        )
        agent = await wait_for_status(seen, ProcessStatus.running)
        assert agent["reason"] == RunReason.agent.value
        assert agent["command_ran"], f"`running` published before bash ran (launch {i})"
        await engine.attempts.stop(attempt.id)
        monkeypatch.undo()


async def test_a_command_that_cannot_start_in_its_sandbox_is_never_running(
    engine: Engine, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on the host's PATH, but in a directory the sandbox does not see (a private /tmp):
    the exec inside fails, the helper says so, and the process goes from queued to failed."""
    bwrap_or_fail(engine)
    ghost_dir = tmp_path / "bin"
    ghost_dir.mkdir()
    ghost = ghost_dir / "paddock-ghost"
    ghost.write_text("#!/bin/sh\necho boo\n")
    ghost.chmod(0o755)
    assert str(ghost).startswith("/tmp/"), "the test needs a path a sandbox cannot see"
    project = await engine.projects.register(str(repo))
    task = await engine.tasks.create(project.id, title="Ghost")
    attempt = await engine.attempts.start(
        task.id, agent=AgentSpec(command="true"), sandbox=SandboxConfig(Provider.bwrap), run=False
    )
    seen = watch_publishing(engine, monkeypatch, "")
    request = ProcessRequest(
        RunReason.setup, ["paddock-ghost"], env={"PATH": f"{ghost_dir}:/usr/bin:/bin"}
    )

    proc = await engine.processes.run(attempt, request)

    assert proc.status is ProcessStatus.failed and proc.exit_code == 127
    assert next(e["status"] for e in seen if e["id"] == proc.id) == "failed"  # never running
    assert [p.status for p in await engine.processes.list_for_attempt(attempt.id)] == [
        ProcessStatus.failed
    ]
    text = [line.text for line in await engine.logs.read(proc.id)]
    assert "paddock: cannot run paddock-ghost: No such file or directory" in text


async def wait_for_status(seen: list[dict[str, Any]], status: ProcessStatus) -> dict[str, Any]:
    for _ in range(1000):
        for event in seen:
            if event["status"] == status.value:
                return event
        await asyncio.sleep(0.01)
    raise AssertionError(f"no process became {status.value}: {seen}")
