"""What queueing a follow-up for an attempt's agent takes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from paddock.inputs.text import Trimmed, refused_blank


class FollowUpCreate(BaseModel):
    # Blank is refused by the service (`empty_prompt`), whichever door it came through.
    prompt: Trimmed = Field(
        description="What the agent should do next", json_schema_extra=refused_blank()
    )
