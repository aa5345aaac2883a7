"""/api/projects/{id}/board and /api/steps/{id}/cards: the board as the UI shows it, paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from paddock.services.board import Board, Column
from paddock.web.deps import BoardDep

router = APIRouter(tags=["board"])

Limit = Annotated[int, Query(ge=1, le=500, description="Cards per column")]
Text = Annotated[str, Query(description="Only tasks whose title or description contains this")]


@router.get("/projects/{project_id}/board", operation_id="get_board")
async def get_board(board: BoardDep, project_id: str, q: Text = "", limit: Limit = 50) -> Board:
    """Every step with its first `limit` cards (task, newest attempt, attempt count) and the
    number of tasks it holds."""
    return await board.load(project_id, query=q, limit=limit)


@router.get("/steps/{step_id}/cards", operation_id="list_step_cards")
async def list_step_cards(
    board: BoardDep,
    step_id: str,
    offset: Annotated[int, Query(ge=0)] = 0,
    q: Text = "",
    limit: Limit = 50,
) -> Column:
    """One page of one column."""
    return await board.column(step_id, query=q, offset=offset, limit=limit)
