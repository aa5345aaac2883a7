"""What committing an attempt's uncommitted changes by hand takes (discarding takes nothing)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from paddock.inputs.text import Trimmed, refused_blank
from paddock.services.git.worktree_changes import MAX_MESSAGE_CHARS


class CommitIn(BaseModel):
    # Blank is refused by the service (`empty_commit_message`), whichever door it came through.
    message: Trimmed = Field(
        description="The commit message (at most 20,000 characters)",
        json_schema_extra=refused_blank(MAX_MESSAGE_CHARS),
    )
