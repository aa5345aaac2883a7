"""What every agent adapter provides, and what it is given for one turn.

An adapter is small: the command line and environment of its CLI for one turn (a first prompt
or a follow-up resuming the CLI's own session), the files its CLI needs in the run's HOME, and
a normaliser that turns the CLI's machine-readable output into entries (domain/entries.py).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol

from paddock.agents.channel_relay import relay_command
from paddock.domain.entries import Entry, Normaliser, raw


class Permission(StrEnum):
    full = "full"  # the agent edits and runs commands without asking (inside the sandbox)
    plan = "plan"  # the agent plans and reads; it changes nothing
    ask = "ask"  # the agent may only do what needs no approval (it cannot ask: stdin is closed)


@dataclass(frozen=True, slots=True)
class Variant:
    """A named configuration of a profile: which model, how much freedom, extra flags."""

    name: str = "default"
    model: str | None = None
    permission: Permission = Permission.full
    extra_args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Credentials:
    """API keys and base URLs from Paddock's settings (secret values: redacted from logs)."""

    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    gemini_api_key: str | None = None
    gemini_base_url: str | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """An attempt's channel: its Unix socket, reached through the relay (channel_relay.py) run
    by the Python the sandbox has (Paddock's own; a container image's)."""

    socket: Path
    python: str = sys.executable

    def command(self) -> list[str]:
        return relay_command(self.socket, self.python)


@dataclass(frozen=True, slots=True)
class TurnContext:
    """Everything one turn of an agent needs."""

    prompt: str
    worktree: Path
    home: Path  # the attempt's own HOME for the CLI: its sessions survive between turns
    executable: str  # the CLI, resolved (a Paddock-managed install or PATH)
    variant: Variant
    credentials: Credentials
    resume: str | None = None  # the CLI's own session id, for a follow-up
    # The attempt's channel to Paddock, offered to a CLI that speaks MCP as the server
    # "paddock"; None: the project turned it off.
    channel: Channel | None = None


@dataclass(frozen=True, slots=True)
class AgentRun:
    """How to start one agent turn: the command line, extra env, what to feed on stdin."""

    argv: list[str]
    env: dict[str, str]
    stdin: bytes | None = None  # None: stdin is closed


@dataclass(frozen=True, slots=True)
class Package:
    """Where `paddock agents install` gets a CLI from, and which release: the one its adapter
    and tests are written against (a newer one can change its output or protocol)."""

    registry: Literal["npm", "pypi"]
    spec: str  # e.g. "@anthropic-ai/claude-code" or "aider-chat"
    version: str  # the pinned release (docs/agents.md "Pinned versions" says how to bump it)

    @property
    def requirement(self) -> str:
        """What the registry's installer is asked for: the package at its pinned version."""
        return (
            f"{self.spec}@{self.version}"
            if self.registry == "npm"
            else f"{self.spec}=={self.version}"
        )


class JsonLinesNormaliser:
    """For CLIs that print one JSON object per line: `_event` turns one object into entries
    (None: not understood). Blank lines are skipped; a line that is not a JSON object, or that
    `_event` does not understand or chokes on, is kept as a raw entry: never an exception."""

    def feed(self, line: str) -> list[Entry]:
        text = line.rstrip("\r\n")
        if not text.strip():
            return []
        try:
            event = json.loads(text)
            entries = self._event(event) if isinstance(event, dict) else None
        except Exception:  # never raise on what the CLI prints
            entries = None
        return [raw(text)] if entries is None else entries

    def finish(self) -> list[Entry]:
        return []

    def _event(self, event: dict[str, Any]) -> list[Entry] | None:
        raise NotImplementedError


class AgentAdapter(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def program(self) -> str:
        """The executable's name, found in Paddock's agents dir or on PATH."""
        ...

    @property
    def package(self) -> Package | None:
        """None for programs Paddock does not install (bash)."""
        ...

    @property
    def interrupt(self) -> signal.Signals | None:
        """The CLI's own "stop now" signal, sent to it alone before the process group is
        stopped; None: straight to the group stop."""
        ...

    def needs_command(self) -> bool:
        """Whether an attempt must give a shell command (the script agent)."""
        ...

    def speaks_mcp(self) -> bool:
        """Whether the CLI is offered the attempt's channel as an MCP server."""
        ...

    def prepare_home(self, ctx: TurnContext) -> None:
        """Write the config files the CLI needs into ctx.home (idempotent)."""
        ...

    def command(self, ctx: TurnContext, command: str = "") -> AgentRun: ...

    def normaliser(self) -> Normaliser: ...


CONFIG_MAX_BYTES = 1 << 20  # an agent's own config file in its HOME: more is not a config


def read_home_config(path: Path) -> dict[str, Any]:
    """A JSON object the agent's last turn may have written (its CLI's settings in HOME): {}
    for anything that is not a small, sane JSON object in a regular file (a link, a fifo, too
    big, too deeply nested)."""
    text = read_home_text(path)
    try:
        value = json.loads(text) if text is not None else {}
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def write_home_config(path: Path, text: str, *, keep_same: bool = True) -> None:
    """Write `text` to `path` in the agent's HOME (unless it holds it already and `keep_same`):
    into a new file renamed into place, so a link the agent left there, symbolic or hard, is
    replaced, never written through."""
    if keep_same and read_home_text(path) == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent.is_symlink():
        raise OSError(f"{path.parent} is a symbolic link")
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        os.fchmod(fh.fileno(), 0o644)  # the agent reads it as the sandbox's user
    os.replace(temporary, path)


def read_home_text(path: Path) -> str | None:
    """A small regular file in the agent's HOME, not through a link; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = fh.read(CONFIG_MAX_BYTES + 1)
    return None if len(data) > CONFIG_MAX_BYTES else data.decode(errors="replace")
