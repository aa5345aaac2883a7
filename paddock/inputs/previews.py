"""What starting and restarting an attempt's previews takes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from paddock.inputs.scalars import Flag
from paddock.inputs.text import TrimmedOrNone


class PreviewStart(BaseModel):
    service: TrimmedOrNone = Field(None, description="One service; blank: every service")
    wait: Flag = Field(False, description="Answer once each preview runs or failed")


class PreviewRestart(BaseModel):
    wait: Flag = False
