"""The escape suite's fixtures: one real server per test module, with its data dir and the
project's repository in a host directory a sandbox can see read-only (not under /tmp, /home or
/root, which a sandbox replaces with empty private ones: a test there would prove less).

Tests take `provider`: "bwrap", and "container" when this machine can run it (skipped with the
reason `paddock doctor` gives otherwise).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from paddock.config import Settings
from paddock.services.doctor import check_sandboxes
from tests.e2e.server import ServerProcess, make_repo
from tests.security.helpers import Bench, token

PROVIDERS = ("bwrap", "container")
# A host variable the server has and no sandbox may see. Not secret-looking by name: a leak
# must show in the log instead of being redacted.
HOST_ONLY_VARIABLE = "ESCAPE_SUITE_HOST_ONLY"
# Sizes the tests rely on: a sandbox's private /tmp (and the other private dirs).
TMP_MB = 32
# Where the module's host directory goes: visible (read-only) inside a sandbox.
HOST_BASES = ("/var/lib", "/srv", "/opt")


@cache
def provider_problem(provider: str) -> str | None:
    """Why `provider` cannot run on this machine, as `paddock doctor` reports it."""
    with tempfile.TemporaryDirectory() as data_dir:
        rows = {check.name: check for check in check_sandboxes(Settings(data_dir=data_dir))}
    row = rows.get(f"sandbox {provider}")
    if row is None:
        return f"paddock doctor has no row for sandbox {provider}"
    return None if row.ok else row.detail


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    problem = provider_problem(name)
    if problem is not None:
        pytest.skip(f"sandbox provider {name} cannot run here: {problem}")
    return name


def _host_base() -> Path:
    for candidate in HOST_BASES:
        if os.access(candidate, os.W_OK):
            return Path(candidate)
    pytest.skip(f"none of {HOST_BASES} is writable: the suite needs a host dir outside /tmp")


@pytest.fixture(scope="module")
def host_dir() -> Iterator[Path]:
    """This module's own directory on the host, readable (not writable) by a sandbox."""
    base = Path(tempfile.mkdtemp(prefix="paddock-escape-", dir=_host_base()))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def host_secret() -> str:
    return f"host-only-{token()}"


@pytest.fixture(scope="module")
def server(host_dir: Path, host_secret: str) -> Iterator[ServerProcess]:
    data = host_dir / "data"
    data.mkdir(mode=0o700)
    env = {
        HOST_ONLY_VARIABLE: host_secret,
        "PADDOCK_SANDBOX_TMP_MB": str(TMP_MB),
        "PADDOCK_STATS_INTERVAL_SECONDS": "0.2",
    }
    with ServerProcess(data, env=env) as srv:
        yield srv


@pytest.fixture(scope="module")
def repo(host_dir: Path) -> Path:
    path = make_repo(host_dir / "repo", {"README.md": "# escape\n", "app.txt": "v1\n"})
    # Files the tests' scripts leave in worktrees stay out of the auto-commits.
    (path / ".git" / "info" / "exclude").write_text("GO\n*.beat\n")
    return path


@pytest.fixture(scope="module")
def project(server: ServerProcess, repo: Path) -> dict[str, Any]:
    created: dict[str, Any] = server.api("POST", "/api/projects", json={"path": str(repo)})
    return created


@pytest.fixture(scope="module")
def bench(server: ServerProcess, project: dict[str, Any], repo: Path) -> Bench:
    return Bench(server, project, repo)
