"""Starting an attempt's preview when the agent's turn ends: a project setting (`auto_preview`,
off by default: a dev server per attempt costs memory and ports, so it is asked for).

Previews already running are left as they are (a dev server reloads what changed); a project
with no dev script has nothing to start. Either way the attempt's run goes on: what did not
start is in the server's log and on the preview's own record.
"""

from __future__ import annotations

from paddock.domain.entities import Attempt
from paddock.domain.errors import PaddockError
from paddock.services.context import Context, log
from paddock.services.previews.previews import PreviewService
from paddock.store import projects as project_store


class PreviewAutostart:
    """An attempt watcher (services/attempts/watchers.py) that starts the attempt's preview."""

    def __init__(self, ctx: Context, previews: PreviewService) -> None:
        self.ctx = ctx
        self.previews = previews

    async def started(self, attempt: Attempt) -> None:
        return None  # nothing to show until the agent's turn ends

    async def turn_ended(self, attempt: Attempt) -> None:
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, attempt.project_id))
        if not project.auto_preview:
            return
        try:
            await self.previews.start(attempt.id)
        except PaddockError as exc:
            log.info("attempt %s: its preview did not start after the turn: %s", attempt.id, exc)
