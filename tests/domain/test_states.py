import pytest

from paddock.domain.errors import Conflict
from paddock.domain.states import (
    AttemptStatus,
    ProcessStatus,
    can_move_attempt,
    can_move_process,
    check_attempt_move,
    check_process_move,
)


def test_process_lifecycle():
    assert can_move_process(ProcessStatus.queued, ProcessStatus.running)
    assert can_move_process(ProcessStatus.running, ProcessStatus.succeeded)
    assert can_move_process(ProcessStatus.queued, ProcessStatus.failed)  # could not spawn
    for final in (
        ProcessStatus.succeeded,
        ProcessStatus.failed,
        ProcessStatus.stopped,
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
    assert can_move_attempt(AttemptStatus.running, AttemptStatus.awaiting_review)
    assert can_move_attempt(AttemptStatus.awaiting_review, AttemptStatus.running)  # a follow-up
    assert not can_move_attempt(AttemptStatus.vanished, AttemptStatus.running)
    assert AttemptStatus.running.busy and not AttemptStatus.awaiting_review.busy


def test_a_finished_turn_awaits_review_and_a_stop_is_not_a_failure():
    assert can_move_attempt(AttemptStatus.running, AttemptStatus.awaiting_review)
    assert can_move_attempt(AttemptStatus.running, AttemptStatus.stopped)
    assert can_move_attempt(AttemptStatus.setting_up, AttemptStatus.stopped)
    assert can_move_process(ProcessStatus.running, ProcessStatus.stopped)
    assert can_move_process(ProcessStatus.queued, ProcessStatus.stopped)  # before it ran
    # Nothing ran to be stopped: a settled attempt is not "stopped" by a stop.
    assert not can_move_attempt(AttemptStatus.awaiting_review, AttemptStatus.stopped)
    assert not can_move_attempt(AttemptStatus.failed, AttemptStatus.stopped)


def test_only_settled_attempts_merge_and_merged_work_may_go_on():
    for status in AttemptStatus:
        allowed = can_move_attempt(status, AttemptStatus.merged)
        settled = status in (
            AttemptStatus.awaiting_review,
            AttemptStatus.stopped,
            AttemptStatus.failed,
            AttemptStatus.merged,
        )
        assert allowed is settled, status
        assert status.settled is settled, status
    assert can_move_attempt(AttemptStatus.merged, AttemptStatus.running)  # a follow-up
    assert can_move_attempt(AttemptStatus.merged, AttemptStatus.conflicted)  # a rebase


def test_busy_and_settled_never_overlap_and_vanished_is_final():
    for status in AttemptStatus:
        assert not (status.busy and status.settled), status
        assert not can_move_attempt(AttemptStatus.vanished, status) or (
            status is AttemptStatus.vanished
        )
    assert not AttemptStatus.conflicted.settled and not AttemptStatus.conflicted.busy


def test_every_attempt_status_reads_as_words():
    assert AttemptStatus.awaiting_review.label == "awaiting review"
    assert AttemptStatus.setting_up.label == "setting up"
    for status in AttemptStatus:
        assert "_" not in status.label
        assert status.meaning and status.meaning[0].isupper()


def test_a_failed_transition_is_refused():
    with pytest.raises(Conflict) as info:
        check_attempt_move(AttemptStatus.creating, AttemptStatus.merged)
    assert info.value.code == "invalid_transition"
