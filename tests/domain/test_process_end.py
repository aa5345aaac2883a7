"""How a process's end is recorded: a stop is `stopped` with no error, whatever its exit."""

from __future__ import annotations

import pytest

from paddock.domain.process_end import end_line, outcome
from paddock.domain.sandbox import LimitHit, Limits
from paddock.domain.states import ProcessStatus

LIMITS = Limits(memory_mb=64, timeout_s=5)


@pytest.mark.parametrize("code", [0, 1, -15, 130])
def test_a_stopped_process_is_stopped_without_an_error(code: int) -> None:
    assert outcome(code, None, LIMITS, stopped=True) == (ProcessStatus.stopped, None)


def test_an_exit_is_a_success_or_a_failure_and_a_limit_says_which() -> None:
    assert outcome(0, None, LIMITS, stopped=False) == (ProcessStatus.succeeded, None)
    assert outcome(2, None, LIMITS, stopped=False) == (ProcessStatus.failed, "exited with code 2")
    # A process its time limit ended was stopped by Paddock, but it is a failure: it says why.
    status, error = outcome(-15, LimitHit.timeout, LIMITS, stopped=True)
    assert status is ProcessStatus.failed and error == "stopped: ran past its time limit (5 s)"


def test_the_logs_last_line_says_how_it_ended() -> None:
    assert end_line(0, None, None, stopped=False) == "exited with code 0"
    assert end_line(0, None, None, stopped=True) == "stopped (exited with code 0)"
    assert end_line(-15, None, None, stopped=True) == "stopped (killed by signal 15)"
    hit = end_line(137, LimitHit.oom_killed, "killed: out of memory", stopped=False)
    assert hit == "exited with code 137 (killed: out of memory)"
