"""The attempt header's actions: Stop, Merge, Rebase, Push, Pull request, the preview, Open in
editor, and Delete in a menu. Which of them can work is domain/attempt_actions.py's rule; this
finds its facts (the worktree, the remotes, the previews, the editor) and renders them. The
route here opens a command editor; the others are the Diff and Preview tabs' own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from paddock.config import Settings
from paddock.domain.attempt_actions import AttemptFacts, available_actions
from paddock.domain.entities import Attempt, Event
from paddock.domain.errors import PaddockError
from paddock.domain.events import EventType, Resource
from paddock.domain.preview import main_running
from paddock.domain.pull_request import PullRequestStatus
from paddock.services.attempts.attempts import AttemptService
from paddock.services.attempts.editor import EditorService
from paddock.services.git.pull_requests import PullRequestService
from paddock.services.git.remotes import RemoteService
from paddock.web.deps import (
    AttemptsDep,
    EditorDep,
    PullRequestsDep,
    RemotesDep,
    SettingsDep,
)
from paddock.web.ui.previews import PreviewTab, PreviewTabDep
from paddock.web.ui.templating import render_fragment

router = APIRouter(include_in_schema=False)

# Events that change the actions without changing the attempt (its header is rendered again
# for those): a preview starting or stopping, a pull request opened or merged.
ACTION_EVENTS = EventType.for_resource(Resource.preview, Resource.pull_request)


def actions_changed(events: list[Event]) -> bool:
    return any(e.type in ACTION_EVENTS for e in events)


@dataclass(frozen=True, slots=True)
class HeaderActions:
    """The header's actions, from the services that know their facts."""

    settings: Settings
    attempts: AttemptService
    remotes: RemoteService
    pull_requests: PullRequestService
    previews: PreviewTab
    editor: EditorService

    async def parts(self, attempt: Attempt) -> dict[str, Any]:
        """What the actions show: which can work, and what each needs (the remote a push
        goes to, the preview to open, the editor's link)."""
        has_worktree = await self.attempts.has_worktree(attempt)
        try:
            remotes = await self.remotes.remotes(attempt.project_id)
        except PaddockError:
            remotes = []
        rows = await self.previews.rows(attempt) if has_worktree else []
        # "Open preview" opens the dev script's (`web`), else another that runs.
        preview = main_running([r.preview for r in rows if r.preview is not None])
        pulls = await self.pull_requests.list_for_attempt(attempt.id)
        facts = AttemptFacts(
            has_worktree=has_worktree,
            has_remotes=bool(remotes),
            can_preview=bool(rows),
            preview_running=preview is not None,
            preview_active=any(r.active for r in rows),
            has_editor=self.editor.editor is not None,
        )
        git = self.settings.git
        return {
            "actions": available_actions(attempt, facts),
            "has_worktree": has_worktree,
            "remote": "origin" if "origin" in remotes else (remotes[0] if remotes else ""),
            "open_pull": next((p for p in pulls if p.status is PullRequestStatus.open), None),
            "running_preview": preview,
            "editor_link": self.editor.link(attempt),
            # A merge from the header is the settings' merge; the Diff tab's form chooses.
            "merge_values": {
                "strategy": git.merge_strategy.value,
                **({"remove_worktree": "true"} if git.merge_removes_worktree else {}),
                **({"delete_branch": "true"} if git.merge_deletes_branch else {}),
            },
        }

    async def patch(self, attempt: Attempt) -> str:
        """The actions alone, as an out-of-band swap."""
        current = await self.attempts.get(attempt.id)
        parts = await self.parts(current)
        return render_fragment("attempts/_header_actions.html", attempt=current, **parts, oob=True)


async def header_actions(
    settings: SettingsDep,
    attempts: AttemptsDep,
    remotes: RemotesDep,
    pull_requests: PullRequestsDep,
    previews: PreviewTabDep,
    editor: EditorDep,
) -> HeaderActions:
    return HeaderActions(settings, attempts, remotes, pull_requests, previews, editor)


HeaderActionsDep = Annotated[HeaderActions, Depends(header_actions)]


@router.post("/ui/attempts/{attempt_id}/editor")
async def open_in_editor(attempt_id: str, editor: EditorDep) -> Response:
    """Run the `editor` setting's command on the attempt's worktree (a link editor's button is
    a plain link instead)."""
    await editor.open(attempt_id)
    return Response(status_code=204)
