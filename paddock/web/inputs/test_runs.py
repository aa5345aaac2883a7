"""What starting a test run takes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from paddock.domain.states import TestKind


class TestRunStart(BaseModel):
    __test__ = False

    kind: TestKind
    wait: bool = Field(False, description="Answer once the run finished")
