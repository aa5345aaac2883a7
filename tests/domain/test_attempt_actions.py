"""Which of an attempt's main actions its header offers, per state and facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from paddock.domain.attempt_actions import AttemptAction as A
from paddock.domain.attempt_actions import AttemptFacts, available_actions
from paddock.domain.entities import AgentSpec, Attempt, Scripts
from paddock.domain.states import AttemptStatus

NOW = datetime(2025, 1, 1, tzinfo=UTC)
EVERYTHING = AttemptFacts(has_worktree=True, has_remotes=True, can_preview=True, has_editor=True)


def attempt(status: AttemptStatus) -> Attempt:
    return Attempt(
        id="a1",
        task_id="t1",
        project_id="p1",
        status=status,
        branch="paddock/a1",
        base_branch="main",
        base_commit="0" * 40,
        worktree_path="/w",
        agent=AgentSpec(),
        prompt="do it",
        scripts=Scripts(),
        error=None,
        debug_id=None,
        created_at=NOW,
        updated_at=NOW,
    )


SETTLED = {A.merge, A.rebase, A.push, A.pull_request, A.start_preview, A.open_editor, A.delete}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (AttemptStatus.awaiting_review, SETTLED),
        (AttemptStatus.stopped, SETTLED),
        (AttemptStatus.failed, SETTLED),
        # Running: stop it; nothing that needs it settled.
        (AttemptStatus.running, {A.stop, A.start_preview, A.open_editor, A.delete}),
        (AttemptStatus.setting_up, {A.stop, A.start_preview, A.open_editor, A.delete}),
        (AttemptStatus.creating, {A.stop, A.open_editor, A.delete}),
        # A rebase waits at conflicts: the Diff tab's Continue / Abort, not a merge.
        (AttemptStatus.conflicted, {A.start_preview, A.open_editor, A.delete}),
        # Merged, worktree kept: still previewable and editable, not merged again.
        (AttemptStatus.merged, {A.start_preview, A.open_editor, A.delete}),
    ],
)
def test_each_state_offers_what_can_work(status: AttemptStatus, expected: set[A]) -> None:
    assert available_actions(attempt(status), EVERYTHING) == expected


def test_without_a_worktree_only_delete_is_left() -> None:
    gone = replace(EVERYTHING, has_worktree=False, preview_running=True)
    for status in (AttemptStatus.merged, AttemptStatus.vanished, AttemptStatus.failed):
        assert available_actions(attempt(status), gone) == {A.delete}


def test_facts_decide_the_rest() -> None:
    bare = AttemptFacts(has_worktree=True)
    assert available_actions(attempt(AttemptStatus.awaiting_review), bare) == {
        A.merge,
        A.rebase,
        A.delete,
    }
    running = replace(EVERYTHING, preview_running=True, preview_active=True)
    shown = available_actions(attempt(AttemptStatus.awaiting_review), running)
    assert A.open_preview in shown and A.start_preview not in shown
    starting = replace(EVERYTHING, preview_active=True)
    shown = available_actions(attempt(AttemptStatus.awaiting_review), starting)
    assert A.open_preview not in shown and A.start_preview not in shown
