"""/api/projects/{id}/board and /api/steps/{id}/cards: the board as the UI shows it, paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from paddock.domain.public import (
    AttemptPublic,
    ProjectPublic,
    PublicModel,
    TaskMovePublic,
    TaskPublic,
    WorkflowStepPublic,
)
from paddock.domain.states import TestKind, TestRunStatus
from paddock.inputs.scalars import MAX_INDEX
from paddock.services.board import Board, Column
from paddock.web.deps import BoardDep

router = APIRouter(tags=["board"])


class CardOut(PublicModel):
    task: TaskPublic
    attempt: AttemptPublic | None = Field(description="The newest attempt, if any")
    attempt_count: int
    active_previews: int = Field(description="The newest attempt's previews starting or running")
    tests: dict[TestKind, TestRunStatus] = Field(
        description="The newest attempt's latest test run of each kind: its status"
    )
    notice: TaskMovePublic | None = Field(
        description="The task's newest move when it went wrong: its gate refused it (`refused`), "
        "or its automation did not run (`automation_error`); null otherwise"
    )


class ColumnOut(PublicModel):
    step: WorkflowStepPublic
    cards: list[CardOut]
    total: int = Field(description="Tasks in this step that match the filter")
    offset: int = Field(description="Of the first card in `cards`")

    @classmethod
    def of(cls, column: Column) -> ColumnOut:
        return cls.read(column)


class BoardOut(PublicModel):
    project: ProjectPublic
    columns: list[ColumnOut]
    query: str

    @classmethod
    def of(cls, board: Board) -> BoardOut:
        return cls.read(board)


Limit = Annotated[int, Query(ge=1, le=500, description="Cards per column")]
Text = Annotated[str, Query(description="Only tasks whose title or description contains this")]


@router.get("/projects/{project_id}/board", operation_id="get_board")
async def get_board(board: BoardDep, project_id: str, q: Text = "", limit: Limit = 50) -> BoardOut:
    """Every step with its first `limit` cards (task, newest attempt, attempt count) and the
    number of tasks it holds."""
    return BoardOut.of(await board.load(project_id, query=q, limit=limit))


@router.get("/steps/{step_id}/cards", operation_id="list_step_cards")
async def list_step_cards(
    board: BoardDep,
    step_id: str,
    offset: Annotated[int, Query(ge=0, le=MAX_INDEX)] = 0,
    q: Text = "",
    limit: Limit = 50,
) -> ColumnOut:
    """One page of one column."""
    return ColumnOut.of(await board.column(step_id, query=q, offset=offset, limit=limit))
