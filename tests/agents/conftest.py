"""Real agent CLIs for the tests, installed once per machine in a cache outside the clone.

`paddock agents install`'s own code (paddock/agents/install.py) installs them, into
$PADDOCK_TEST_AGENTS_DIR (default ~/.cache/paddock-tests/agents), so a fresh machine pays the
download once and later runs reuse it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paddock.agents.base import AgentAdapter
from paddock.agents.install import AgentInstalls

AGENTS_CACHE = Path(
    os.environ.get("PADDOCK_TEST_AGENTS_DIR", Path.home() / ".cache" / "paddock-tests" / "agents")
)


def installed_cli(adapter: AgentAdapter) -> str:
    """The CLI's executable at the version its adapter pins, installing it into the shared
    test cache on first use (and again when the pin moves)."""
    installs = AgentInstalls(AGENTS_CACHE)
    found = installs.executable(adapter)
    pinned = adapter.package.version if adapter.package is not None else None
    if (
        found is None
        or not found.startswith(str(AGENTS_CACHE))
        or (pinned is not None and installs.version(found) != pinned)
    ):
        found = installs.install(adapter)
    return found


@pytest.fixture
def agents_cache() -> Path:
    return AGENTS_CACHE
