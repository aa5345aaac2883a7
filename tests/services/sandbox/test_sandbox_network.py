"""Network "private" where it cannot run (no slirp4netns): an attempt asking for it (or a server
set to it) is refused up front with the fix named; an attempt nobody chose a network for falls
back to host, as provider auto does; `paddock doctor` says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from paddock.domain.entities import AgentSpec
from paddock.domain.errors import InvalidInput
from paddock.domain.sandbox import Network, Provider, SandboxConfig
from paddock.runtime import git
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.services.doctor import check_networks
from paddock.services.engine import Engine
from tests.e2e.server import make_repo

pytestmark = pytest.mark.anyio


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"README.md": "# net\n"})


def without_slirp(engine: Engine) -> None:
    """As on a machine without the package: what `shutil.which` finds at start-up."""
    bwrap = engine.ctx.sandboxes.providers[Provider.bwrap]
    assert isinstance(bwrap, BwrapLauncher)
    bwrap.slirp = None


async def test_an_attempt_asking_for_private_without_slirp_is_refused(
    engine: Engine, repo: Path
) -> None:
    without_slirp(engine)
    project = await engine.projects.register(str(repo))
    task = await engine.tasks.create(project.id, title="Net")
    with pytest.raises(InvalidInput) as refused:
        await engine.attempts.start(
            task.id,
            agent=AgentSpec(command="true"),
            sandbox=SandboxConfig(Provider.bwrap, Network.private),
        )
    assert refused.value.code == "sandbox_unavailable"
    assert refused.value.message.startswith("network private cannot run here:")
    assert "slirp4netns is not installed (run scripts/install" in refused.value.message
    assert await engine.attempts.list_for_task(task.id) == []
    worktrees = (await git.run_git(repo, "worktree", "list", "--porcelain")).stdout
    assert len(worktrees.strip().split("\n\n")) == 1  # nothing was made for them
    # The other modes do not need it.
    attempt = await engine.attempts.start(
        task.id,
        agent=AgentSpec(command="true"),
        sandbox=SandboxConfig(Provider.bwrap, Network.none),
    )
    assert attempt.sandbox.network is Network.none


async def test_without_slirp_the_default_falls_back_to_host_unless_private_was_set(
    engine: Engine, repo: Path, tmp_path: Path
) -> None:
    without_slirp(engine)
    project = await engine.projects.register(str(repo))
    task = await engine.tasks.create(project.id, title="Net")
    attempt = await engine.attempts.start(
        task.id, agent=AgentSpec(command="true"), sandbox=SandboxConfig(Provider.bwrap)
    )
    assert attempt.sandbox.network is Network.host  # kept on the attempt: the UI shows it

    chosen = engine.settings.sandbox.model_copy(update={"network": Network.private})
    chosen.model_fields_set.add("network")
    set_private = engine.settings.model_copy(update={"sandbox": chosen})
    engine.ctx.settings = set_private
    with pytest.raises(InvalidInput) as refused:
        await engine.attempts.start(
            task.id, agent=AgentSpec(command="true"), sandbox=SandboxConfig(Provider.bwrap)
        )
    assert refused.value.code == "sandbox_unavailable"


async def test_doctor_reports_a_missing_slirp(engine: Engine) -> None:
    without_slirp(engine)
    checks = {
        c.name: c for c in check_networks(engine.settings, engine.ctx.sandboxes, Provider.bwrap)
    }
    assert not checks["network private"].ok
    assert "slirp4netns is not installed" in checks["network private"].detail
    default = checks["network default"]
    assert default.ok and default.detail.startswith(
        "private unavailable: attempts fall back to host"
    )
