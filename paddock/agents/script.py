"""The `script` agent: any shell command. It gets the prompt in PADDOCK_PROMPT and on stdin.

It prints no machine-readable stream, so its normaliser makes no entries: the process log is
its whole record (the prompt itself is recorded by Paddock as the turn's user message).
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from paddock.agents.base import AgentRun, Package, TurnContext
from paddock.domain.entries import Entry


def shell_argv(script: str, shell: str = "bash") -> list[str]:
    return [shell, "-c", script]


class SilentNormaliser:
    # Makes nothing of lines: the log pipeline need not hand it any (a flood of output would
    # otherwise cost a Python call per line here).
    reads_lines = False

    def feed(self, line: str) -> list[Entry]:
        return []

    def finish(self) -> list[Entry]:
        return []


@dataclass(frozen=True, slots=True)
class ScriptAgent:
    name: str = "script"
    label: str = "Shell script"
    fixed_command: str = ""  # a fixed command; empty means the attempt supplies one
    program: str = "bash"
    package: Package | None = None
    # A shell waits for its foreground command before it handles a signal: the group stop
    # (SIGTERM to every process) is the script's interrupt.
    interrupt: signal.Signals | None = None

    def needs_command(self) -> bool:
        return not self.fixed_command

    def speaks_mcp(self) -> bool:
        return False

    def prepare_home(self, ctx: TurnContext) -> None:
        """A shell script runs with the host's HOME: nothing to prepare."""

    def command(self, ctx: TurnContext, command: str = "") -> AgentRun:
        env = {**ctx.variant.env, "PADDOCK_PROMPT": ctx.prompt}
        return AgentRun(
            argv=shell_argv(command or self.fixed_command, self.program),
            env=env,
            stdin=ctx.prompt.encode(),
        )

    def normaliser(self) -> SilentNormaliser:
        return SilentNormaliser()
