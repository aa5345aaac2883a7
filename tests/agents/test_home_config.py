"""An agent CLI's settings file in its HOME was written by the agent's last turn: the adapters
that merge their settings into it (Gemini CLI, OpenCode) read it without following a link,
within a size, and never write through a link left there."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from paddock.agents import gemini, opencode
from paddock.agents.base import (
    CONFIG_MAX_BYTES,
    AgentAdapter,
    Credentials,
    TurnContext,
    Variant,
)

ADAPTERS = {
    "gemini": (gemini.ADAPTER, ".gemini/settings.json"),
    "opencode": (opencode.ADAPTER, opencode.CONFIG),
}


def _ctx(tmp_path: Path) -> TurnContext:
    return TurnContext(
        "hi", tmp_path / "repo", tmp_path / "home", "agent", Variant(), Credentials()
    )


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> tuple[AgentAdapter, str]:
    return ADAPTERS[request.param]


def test_a_link_at_the_settings_file_is_replaced_not_followed(
    tmp_path: Path, adapter: tuple[AgentAdapter, str]
) -> None:
    agent, relative = adapter
    host_file = tmp_path / "host-owned.json"
    host_file.write_text('{"host": "secret"}\n')
    settings = tmp_path / "home" / relative
    settings.parent.mkdir(parents=True)
    settings.symlink_to(host_file)

    agent.prepare_home(_ctx(tmp_path))

    assert host_file.read_text() == '{"host": "secret"}\n'  # neither read into it nor written
    assert not settings.is_symlink()
    written = json.loads(settings.read_text())
    assert "host" not in written
    assert settings.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    "hostile",
    [
        "[" * 200_000 + "]" * 200_000,  # nesting past the JSON parser's recursion limit
        '{"a": "' + "x" * (CONFIG_MAX_BYTES + 10) + '"}',  # past the size an agent config has
    ],
    ids=["deep", "huge"],
)
def test_a_hostile_settings_file_is_replaced_by_paddocks(
    tmp_path: Path, adapter: tuple[AgentAdapter, str], hostile: str
) -> None:
    agent, relative = adapter
    settings = tmp_path / "home" / relative
    settings.parent.mkdir(parents=True)
    settings.write_text(hostile)

    agent.prepare_home(_ctx(tmp_path))

    written = json.loads(settings.read_text())
    assert isinstance(written, dict) and written  # Paddock's own settings, nothing of the old
    assert len(settings.read_bytes()) < CONFIG_MAX_BYTES


def test_a_fifo_at_the_settings_file_does_not_block(
    tmp_path: Path, adapter: tuple[AgentAdapter, str]
) -> None:
    agent, relative = adapter
    settings = tmp_path / "home" / relative
    settings.parent.mkdir(parents=True)
    os.mkfifo(settings)

    agent.prepare_home(_ctx(tmp_path))  # an open() for reading would wait for a writer forever

    assert settings.is_file() and json.loads(settings.read_text())
