"""Fixtures shared by the runtime tests: a git repository, the container sandbox."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from paddock.runtime import git
from paddock.runtime.sandbox.container import ContainerLauncher
from paddock.runtime.sandbox.container_engine import PodmanService, PodmanServiceError
from paddock.runtime.sandbox.container_image import DEFAULT_IMAGE
from paddock.runtime.sandbox.sandbox_identity import find_user

SANDBOX_USER = "paddock-sandbox"


@pytest.fixture
async def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    await git.init_repo(path, {"README.md": "# demo\n", "src/app.py": "print('hi')\n"})
    return path


# --- the container sandbox: a Podman API service of the session's own ---------------------------


def _cannot_run_containers(reason: str) -> None:
    """Skip, unless this machine is one scripts/install sets up for containers (root, apt) and
    we run in CI: there a missing piece is a broken install, not an absent feature."""
    installable = os.geteuid() == 0 and shutil.which("apt-get") is not None
    if os.environ.get("CI") and installable:
        pytest.fail(f"{reason} (scripts/install --dev should have set it up)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def podman_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodmanService]:
    if shutil.which("podman") is None:
        _cannot_run_containers("podman is not installed (scripts/install --containers)")
    path = tmp_path_factory.mktemp("podman") / "podman.sock"
    try:
        service = PodmanService.start(path)
    except PodmanServiceError as exc:
        error = str(exc)
    else:
        error = ""
    if error:
        pytest.fail(f"cannot start the test Podman service: {error}", pytrace=False)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def container_launcher(podman_service: PodmanService) -> ContainerLauncher:
    """The container provider, against the session's Podman service and Paddock's base image."""
    user = find_user(SANDBOX_USER)
    if os.geteuid() == 0 and user is None:
        _cannot_run_containers(f"the sandbox user {SANDBOX_USER} does not exist")
    launcher = ContainerLauncher(url=podman_service.url, image=DEFAULT_IMAGE, user=user, tmp_mb=64)
    problem = launcher.problem()
    if problem is not None:
        _cannot_run_containers(problem)
    return launcher
