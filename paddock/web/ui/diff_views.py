"""The workspace's Diff tab: what the attempt changed against its base, file by file, as a
unified or a split (side-by-side) view, and the git actions beside it (merge, rebase, push).

Patch text is parsed here into rows; the templates escape every piece of it (paths and patches
are the agent's, untrusted)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import zip_longest
from typing import Annotated, Any

from fastapi import Depends

from paddock.config import Settings
from paddock.domain.diff import Diff, FileDiff
from paddock.domain.entities import Attempt, Event
from paddock.domain.errors import PaddockError
from paddock.domain.events import EventType, Resource
from paddock.domain.states import AttemptStatus
from paddock.services.attempts.attempts import AttemptService
from paddock.services.git.diffs import DiffService
from paddock.services.git.pull_requests import PullRequestService
from paddock.services.git.rebases import RebaseService
from paddock.services.git.remotes import RemoteService
from paddock.web.deps import (
    AttemptsDep,
    DiffsDep,
    PullRequestsDep,
    RebasesDep,
    RemotesDep,
    SettingsDep,
)
from paddock.web.ui.templating import render_fragment

HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True, slots=True)
class Line:
    kind: str  # "add", "del", "ctx", "hunk", "meta"
    text: str
    old: int | None = None  # line numbers
    new: int | None = None


@dataclass(frozen=True, slots=True)
class SplitRow:
    kind: str  # "hunk", "meta" or "lines"
    left: Line | None
    right: Line | None


def unified(patch: str) -> list[Line]:
    """The patch's lines after its header (diff --git, index, ---, +++), numbered."""
    rows: list[Line] = []
    old = new = 0
    in_hunks = False
    for raw in patch.splitlines():
        match = HUNK.match(raw)
        if match:
            in_hunks = True
            old, new = int(match[1]), int(match[2])
            rows.append(Line("hunk", raw))
        elif not in_hunks:
            continue  # the header: shown as the file's head instead
        elif raw.startswith("+"):
            rows.append(Line("add", raw[1:], new=new))
            new += 1
        elif raw.startswith("-"):
            rows.append(Line("del", raw[1:], old=old))
            old += 1
        elif raw.startswith("\\"):
            rows.append(Line("meta", raw))
        else:
            rows.append(Line("ctx", raw[1:], old=old, new=new))
            old += 1
            new += 1
    return rows


def split(lines: list[Line]) -> list[SplitRow]:
    """Side by side: removed lines on the left paired with the added ones that follow them."""
    rows: list[SplitRow] = []
    dels: list[Line] = []
    adds: list[Line] = []

    def flush() -> None:
        for left, right in zip_longest(dels, adds):
            rows.append(SplitRow("lines", left, right))
        dels.clear()
        adds.clear()

    for line in lines:
        if line.kind == "del":
            if adds:
                flush()
            dels.append(line)
        elif line.kind == "add":
            adds.append(line)
        else:
            flush()
            if line.kind == "ctx":
                rows.append(SplitRow("lines", line, line))
            else:
                rows.append(SplitRow(line.kind, line, None))
    flush()
    return rows


@dataclass(frozen=True, slots=True)
class FileView:
    file: FileDiff
    anchor: str
    lines: list[Line]
    rows: list[SplitRow]


def file_views(diff: Diff) -> list[FileView]:
    views = []
    for n, f in enumerate(diff.files):
        lines = unified(f.patch) if f.patch else []
        views.append(FileView(f, f"diff-file-{n}", lines, split(lines)))
    return views


BUSY = {AttemptStatus.creating, AttemptStatus.setting_up, AttemptStatus.running}


@dataclass(frozen=True, slots=True)
class DiffTab:
    """The Diff tab, from the services it reads: the diff, the project's remotes, the
    attempt's pull requests and rebase, the merge defaults."""

    settings: Settings
    attempts: AttemptService
    diffs: DiffService
    remotes: RemoteService
    pull_requests: PullRequestService
    rebases: RebaseService

    async def parts(self, attempt: Attempt) -> dict[str, Any]:
        """What the Diff tab's live part shows: the diff (or why there is none), the remotes,
        the conflicted files while a rebase waits."""
        diff: Diff | None = None
        problem = ""
        # A merge may have removed the worktree: nothing to diff or act on, and no error.
        gone = not await self.attempts.has_worktree(attempt)
        try:
            if not gone:
                diff = await self.diffs.diff(attempt.id, patches=True)
        except PaddockError as error:
            problem = str(error)
        try:
            remotes = await self.remotes.remotes(attempt.project_id)
        except PaddockError:
            remotes = []
        pulls = await self.pull_requests.list_for_attempt(attempt.id)
        conflicts: list[str] = []
        if attempt.status == AttemptStatus.conflicted:
            try:
                conflicts = await self.rebases.conflicts(attempt.id)
            except PaddockError:
                conflicts = []
        return {
            "diff": diff,
            "diff_problem": problem,
            "worktree_gone": gone,
            "diff_files": file_views(diff) if diff else [],
            "remotes": remotes,
            "pull_requests": pulls,
            "merge_defaults": self.settings.git,
            "conflicts": conflicts,
            "busy": attempt.status in BUSY,
        }

    async def patch(self, attempt_id: str) -> str:
        """The tab's live part, as an out-of-band swap."""
        attempt = await self.attempts.get(attempt_id)
        parts = await self.parts(attempt)
        return render_fragment("attempts/_diff_body.html", attempt=attempt, **parts, oob=True)


async def diff_tab(
    settings: SettingsDep,
    attempts: AttemptsDep,
    diffs: DiffsDep,
    remotes: RemotesDep,
    pull_requests: PullRequestsDep,
    rebases: RebasesDep,
) -> DiffTab:
    return DiffTab(settings, attempts, diffs, remotes, pull_requests, rebases)


DiffTabDep = Annotated[DiffTab, Depends(diff_tab)]


# Events after which the Diff tab is rendered again: the worktree or the attempt (its branch,
# its merge) changed, or one of its pull requests.
DIFF_EVENTS = frozenset(
    {EventType.attempt_diff_changed, EventType.attempt_updated}
) | EventType.for_resource(Resource.pull_request)


def diff_changed(events: list[Event]) -> bool:
    return any(e.type in DIFF_EVENTS for e in events)
