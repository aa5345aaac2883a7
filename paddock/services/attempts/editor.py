"""Opening an attempt's worktree in the user's editor (the `editor` setting): a link the
browser follows (`vscode://file/...`), or a command the server runs on its own machine."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread

from paddock.domain.editor import Editor
from paddock.domain.entities import Attempt
from paddock.domain.errors import Conflict
from paddock.runtime import desktop
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.context import Context, log
from paddock.store import attempts as attempt_store


class EditorService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def editor(self) -> Editor | None:
        """The editor the settings name; None: no "Open in editor"."""
        return Editor.of(self.ctx.settings.ui.editor)

    def link(self, attempt: Attempt) -> str | None:
        """The link that opens the attempt's worktree; None for a command editor (the server
        opens it: `open`) or none."""
        editor = self.editor
        return editor.link_to(attempt.worktree_path) if editor is not None else None

    async def open(self, attempt_id: str) -> None:
        """Run the editor command on the attempt's worktree."""
        attempt = await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        editor = self.editor
        if editor is None or not editor.command:
            raise Conflict(
                "the editor setting names no command to run: its link opens the worktree",
                code="editor_not_a_command",
            )
        worktree = await attempt_worktree(self.ctx, attempt)  # refused once it is gone
        argv = editor.argv(str(worktree.path))
        await anyio.to_thread.run_sync(desktop.launch, argv, Path(worktree.path))
        log.info("attempt %s: opened in the editor (%s)", attempt_id, argv[0])
