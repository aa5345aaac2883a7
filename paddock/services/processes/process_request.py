"""What a service asks `ProcessService.run` for: the process to run in an attempt
(`ProcessRequest`: its command, input, environment, what its sandbox may touch, how it is told
to stop) and who follows its output as it runs (`ProcessObservers`)."""

from __future__ import annotations

import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paddock.domain.entities import Process
from paddock.domain.entries import Entry, Normaliser
from paddock.domain.states import LogStream, RunReason
from paddock.runtime.launcher import NetworkHook, Stdin
from paddock.runtime.linesplit import Piece

# Sees a process's log lines as they come, redacted (e.g. a dev server's port announcement).
LineObserver = Callable[[LogStream, list[Piece]], None]


@dataclass(frozen=True, slots=True)
class ProcessRequest:
    """One process to run in an attempt's worktree, in the attempt's sandbox."""

    reason: RunReason
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)  # on top of the attempt's identity
    stdin: Stdin | None = None  # written (once known) then closed; None: /dev/null
    secret_env: Sequence[str] = ()  # more variables whose values are redacted from its log
    commit_before: str | None = None  # the worktree's HEAD when it started (agent turns)
    # Sent first when it is stopped (a CLI's own "stop now"); the group is stopped only if it
    # is still running after `interrupt_grace_seconds`.
    interrupt: signal.Signals | None = None
    writable: Sequence[Path] = ()  # in a sandbox, besides the worktree
    readable: Sequence[Path] = ()
    # A caller that must know the process before it starts names it; None: a new id.
    process_id: str | None = None
    # Network "private": called with the sandbox's network before the command starts.
    on_network: NetworkHook | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ProcessObservers:
    """Who follows a process's output besides its stored log."""

    # Agent turns: stdout also becomes agent entries, starting with `opening` (e.g. the
    # prompt as the user's message).
    normaliser: Normaliser | None = None
    opening: Sequence[Entry] = ()
    lines: LineObserver | None = None
    # Called once the process is running (its command started, `running` published); not for
    # a process whose command never started.
    started: Callable[[Process], None] | None = None


UNOBSERVED = ProcessObservers()
