"""A failed agent turn's error says the agent's own reason first, then how it exited: an exit
code alone ("exited with code 1") says nothing of a refused key or an unreachable model."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from paddock.domain.entities import Process
from paddock.domain.entries import MAX_REASON_CHARS, error_reason
from paddock.domain.process_end import with_agent_reason
from paddock.domain.states import ProcessStatus, RunReason

FAILED = Process(
    id="p1",
    attempt_id="a1",
    reason=RunReason.agent,
    command=["claude"],
    status=ProcessStatus.failed,
    pid=None,
    pid_start_time=None,
    exit_code=1,
    error="exited with code 1",
    debug_id="d1",
    line_count=3,
    created_at=datetime.now(UTC),
    started_at=None,
    finished_at=None,
)


def test_the_agents_reason_comes_first() -> None:
    said = "Invalid API key · Fix external API key"
    assert with_agent_reason(FAILED, said) == f"{said} (exited with code 1)"


def test_only_a_failure_of_its_own_takes_the_agents_reason() -> None:
    assert with_agent_reason(FAILED, None) == "exited with code 1"
    stopped = replace(FAILED, status=ProcessStatus.stopped, error=None)
    assert with_agent_reason(stopped, "Request was aborted") is None  # a stop is no failure
    limit = replace(FAILED, failure="oom_killed", error="killed: out of memory (limit 64 MB)")
    assert with_agent_reason(limit, "fetch failed") == limit.error  # the limit says why
    succeeded = replace(FAILED, status=ProcessStatus.succeeded, error=None, exit_code=0)
    assert with_agent_reason(succeeded, "a retry it got over") is None


def test_the_reason_is_the_messages_first_line_cut() -> None:
    message = "\n  Connection failed: error sending request\n    caused by: refused\n"
    assert error_reason(message) == "Connection failed: error sending request"
    long = error_reason("x" * 1000)
    assert len(long) == MAX_REASON_CHARS and long.endswith("…")
