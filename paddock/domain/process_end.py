"""How a process ended, in words: its status and error from its exit code, a limit it hit or a
stop, the line that ends its log, and the reason its agent gave put first."""

from __future__ import annotations

from paddock.domain.entities import Process
from paddock.domain.entries import error_reason
from paddock.domain.sandbox import LimitHit, Limits
from paddock.domain.states import ProcessStatus

# Exit codes the shell uses for a command it could not run at all.
_SHELL_EXIT_MEANING = {126: "command not executable", 127: "command not found"}


def describe_exit(code: int) -> str:
    if code < 0:
        return f"killed by signal {-code}"
    meaning = _SHELL_EXIT_MEANING.get(code)
    return f"exited with code {code}" + (f" ({meaning})" if meaning else "")


def describe_limit(hit: LimitHit, limits: Limits) -> str:
    if hit is LimitHit.oom_killed:
        return f"killed: out of memory (limit {limits.memory_mb} MB)"
    if hit is LimitHit.pids_limit:
        return f"stopped: too many processes (limit {limits.pids})"
    return f"stopped: ran past its time limit ({limits.timeout_s:g} s)"


def outcome(
    code: int, hit: LimitHit | None, limits: Limits, *, stopped: bool
) -> tuple[ProcessStatus, str | None]:
    """How a process that exited with `code` ended: its status and error (None: succeeded)."""
    if hit is not None:
        return ProcessStatus.failed, describe_limit(hit, limits)
    if stopped:  # not a failure, whatever its exit code: its log says how it exited
        return ProcessStatus.stopped, None
    if code == 0:
        return ProcessStatus.succeeded, None
    return ProcessStatus.failed, describe_exit(code)


def end_line(code: int, hit: LimitHit | None, error: str | None, *, stopped: bool) -> str:
    """The system line that ends a process's log: how it exited, and why when it was ended."""
    if hit is not None:
        return f"{describe_exit(code)} ({error})"
    return f"stopped ({describe_exit(code)})" if stopped else describe_exit(code)


def with_agent_reason(proc: Process, agent_error: str | None) -> str | None:
    """A failed process's error with the reason its agent gave first ("Invalid API key
    (exited with code 1)"): an exit code alone says nothing. A stop, a limit hit (its error
    already says why) or a process without an agent error keeps its error."""
    if proc.status is not ProcessStatus.failed or proc.failure is not None or not agent_error:
        return proc.error
    said = error_reason(agent_error)
    return f"{said} ({proc.error})" if said and proc.error else proc.error
