"""What starting a test run takes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from paddock.domain.states import TestKind
from paddock.inputs.scalars import Flag


class TestRunStart(BaseModel):
    __test__ = False

    kind: TestKind
    wait: Flag = Field(False, description="Answer once the run finished")
