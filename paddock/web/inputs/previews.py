"""What starting and restarting an attempt's previews takes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from paddock.web.inputs.text import TrimmedOrNone


class PreviewStart(BaseModel):
    service: TrimmedOrNone = Field(None, description="One service; blank: every service")
    wait: bool = Field(False, description="Answer once each preview runs or failed")


class PreviewRestart(BaseModel):
    wait: bool = False
