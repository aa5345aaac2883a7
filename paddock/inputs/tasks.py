"""What creating and editing a task takes (POST /api/projects/{id}/tasks, PATCH
/api/tasks/{id}, and the UI's task forms)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from paddock.domain.tasks import DESCRIPTION_BAD_CHARS, MAX_TITLE_CHARS, TITLE_BAD_CHARS
from paddock.inputs.scalars import Index
from paddock.inputs.text import Trimmed, TrimmedOrNone

# domain/tasks.py's rules (`bad_title`, `bad_description`), said in the document: a title is
# one line with something in it (spaces around it dropped), a description has no control
# character but tab and line breaks.
TITLE: JsonDict = {
    "pattern": rf"^\s*[^{TITLE_BAD_CHARS}]*[^{TITLE_BAD_CHARS}\s][^{TITLE_BAD_CHARS}]*\s*$",
    "maxLength": MAX_TITLE_CHARS,
}
DESCRIPTION: JsonDict = {"pattern": rf"^[^{DESCRIPTION_BAD_CHARS}]*$"}


class TaskCreate(BaseModel):
    title: Trimmed = Field(json_schema_extra=TITLE)
    description: str = Field(
        "", description="Kept as given (line breaks, spaces)", json_schema_extra=DESCRIPTION
    )
    step_id: TrimmedOrNone = Field(None, description="Default: the project's first step")


class TaskUpdate(BaseModel):
    title: Trimmed | None = Field(None, json_schema_extra=TITLE)
    description: str | None = Field(None, json_schema_extra=DESCRIPTION)
    step_id: TrimmedOrNone = Field(None, description="Another step: a move (its gate applies)")
    index: Index | None = Field(default=None, description="Place within the step")
    below: str | None = Field(
        default=None,
        description='Put the card just below this task of the step ("" = at the top); '
        "exact whatever part of the column a client shows. Wins over `index`.",
    )

    def changes(self) -> dict[str, Any]:
        """The fields sent, as TaskService.update takes them."""
        return self.model_dump(exclude_unset=True)
