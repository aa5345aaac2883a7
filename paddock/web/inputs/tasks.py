"""What creating and editing a task takes (POST /api/projects/{id}/tasks, PATCH
/api/tasks/{id}, and the UI's task forms)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from paddock.web.inputs.text import Trimmed, TrimmedOrNone


class TaskCreate(BaseModel):
    title: Trimmed
    description: str = Field("", description="Kept as given (line breaks, spaces)")
    step_id: TrimmedOrNone = Field(None, description="Default: the project's first step")


class TaskUpdate(BaseModel):
    title: Trimmed | None = None
    description: str | None = None
    step_id: TrimmedOrNone = Field(None, description="Another step: a move (its gate applies)")
    index: int | None = Field(default=None, ge=0, description="Place within the step")
    below: str | None = Field(
        default=None,
        description='Put the card just below this task of the step ("" = at the top); '
        "exact whatever part of the column a client shows. Wins over `index`.",
    )

    def changes(self) -> dict[str, Any]:
        """The fields sent, as TaskService.update takes them."""
        return self.model_dump(exclude_unset=True)
