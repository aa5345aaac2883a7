import pytest

from paddock.domain.errors import Conflict
from paddock.domain.states import (
    AttemptStatus,
    ProcessStatus,
    can_move_attempt,
    can_move_process,
    check_process_move,
)


def test_process_lifecycle():
    assert can_move_process(ProcessStatus.queued, ProcessStatus.running)
    assert can_move_process(ProcessStatus.running, ProcessStatus.succeeded)
    assert can_move_process(ProcessStatus.queued, ProcessStatus.failed)  # could not spawn
    for final in (
        ProcessStatus.succeeded,
        ProcessStatus.failed,
        ProcessStatus.killed,
        ProcessStatus.lost,
    ):
        assert final.finished
        assert not can_move_process(final, ProcessStatus.running)


def test_a_finished_process_cannot_restart():
    with pytest.raises(Conflict) as info:
        check_process_move(ProcessStatus.succeeded, ProcessStatus.running)
    assert info.value.code == "invalid_transition"


def test_attempt_lifecycle():
    assert can_move_attempt(AttemptStatus.creating, AttemptStatus.setting_up)
    assert can_move_attempt(AttemptStatus.running, AttemptStatus.idle)
    assert can_move_attempt(AttemptStatus.idle, AttemptStatus.running)  # a follow-up
    assert not can_move_attempt(AttemptStatus.vanished, AttemptStatus.running)
    assert AttemptStatus.running.busy and not AttemptStatus.idle.busy
