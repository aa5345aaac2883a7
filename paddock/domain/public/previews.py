"""The public read model of a preview: its URL, never its token hash."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field

from paddock.domain.preview import PreviewStatus, PreviewView
from paddock.domain.public.model import PublicModel


class PreviewPublic(PublicModel):
    """An attempt's dev service behind the proxy, at its own host."""

    id: str
    attempt_id: str
    project_id: str
    service: str
    command: str
    host: str = Field(description="The host label under the preview domain")
    url: str = Field(description="Where the preview is served (the proxy); open it with /open")
    port: int | None = Field(description="The dev server's port while it starts or runs")
    process_id: str | None = Field(description="The dev server's process (its log streams)")
    status: PreviewStatus
    error: str | None = Field(description="Why it failed, with the dev server's last lines")
    debug_id: str | None
    notice: str | None = Field(description="e.g. the app ignored PORT, or it was idle")
    last_access_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, preview: PreviewView) -> Self:
        return cls.read(preview)
