"""What making a runner takes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RunnerCreate(BaseModel):
    name: str = Field(description="1-63 letters, digits, '.', '_' or '-'; unique", max_length=63)
    labels: list[str] = Field(
        default_factory=list, description="e.g. gpu, container: attempts may ask for them"
    )
