"""Which of an attempt's main actions can work now: the buttons its workspace's header shows.

Each depends on the attempt's state and on a few facts found outside it (is its worktree still
there, has the project remotes, has the attempt something to preview): an action that cannot
work is not offered, rather than offered and refused."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from paddock.domain.entities import Attempt
from paddock.domain.states import AttemptStatus


class AttemptAction(StrEnum):
    stop = "stop"  # stop its setup or agent turn
    merge = "merge"  # land it on its base branch (the settings' strategy)
    rebase = "rebase"  # replay it on its base branch's tip
    push = "push"  # its branch to a remote of the project
    pull_request = "pull_request"  # open one (or show the open one)
    start_preview = "start_preview"  # start its dev services
    open_preview = "open_preview"  # open its running preview in a new tab
    open_editor = "open_editor"  # its worktree in the user's editor
    delete = "delete"  # the attempt, its worktree (and branch): never the prominent one


@dataclass(frozen=True, slots=True)
class AttemptFacts:
    """What the actions depend on besides the attempt itself."""

    has_worktree: bool
    has_remotes: bool = False
    can_preview: bool = False  # it has a dev service (the dev script, [services])
    preview_running: bool = False  # one of its previews runs (answers)
    preview_active: bool = False  # one is starting or running
    has_editor: bool = False  # the `editor` setting names one


def available_actions(attempt: Attempt, facts: AttemptFacts) -> frozenset[AttemptAction]:
    """The actions that can work for `attempt` now, given `facts`."""
    status = attempt.status
    actions = {AttemptAction.delete}
    if status.busy:
        actions.add(AttemptAction.stop)
    if not facts.has_worktree:
        return frozenset(actions)  # merged and removed, or gone: only the record is left
    if facts.has_editor:
        actions.add(AttemptAction.open_editor)
    if facts.preview_running:
        actions.add(AttemptAction.open_preview)
    elif facts.can_preview and not facts.preview_active and status is not AttemptStatus.creating:
        actions.add(AttemptAction.start_preview)
    # Merged and nothing since (a follow-up after a merge makes it mergeable again).
    landed = status is AttemptStatus.merged
    if not (status.busy or landed or status is AttemptStatus.conflicted):
        actions.update({AttemptAction.merge, AttemptAction.rebase})
        if facts.has_remotes:
            actions.update({AttemptAction.push, AttemptAction.pull_request})
    return frozenset(actions)
