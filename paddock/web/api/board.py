"""/api/projects/{id}/board and /api/steps/{id}/cards: the board as the UI shows it, paged."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query

from paddock.services.board import Board, Column
from paddock.web.api.tasks import public_attempt
from paddock.web.deps import EngineDep

router = APIRouter(tags=["board"])

Limit = Annotated[int, Query(ge=1, le=500, description="Cards per column")]
Text = Annotated[str, Query(description="Only tasks whose title or description contains this")]


def _public(column: Column) -> Column:
    cards = [
        replace(c, attempt=public_attempt(c.attempt) if c.attempt else None) for c in column.cards
    ]
    return replace(column, cards=cards)


@router.get("/projects/{project_id}/board", operation_id="get_board")
async def get_board(engine: EngineDep, project_id: str, q: Text = "", limit: Limit = 50) -> Board:
    """Every step with its first `limit` cards (task, newest attempt, attempt count) and the
    number of tasks it holds."""
    board = await engine.board.load(project_id, query=q, limit=limit)
    return replace(board, columns=[_public(c) for c in board.columns])


@router.get("/steps/{step_id}/cards", operation_id="list_step_cards")
async def list_step_cards(
    engine: EngineDep,
    step_id: str,
    offset: Annotated[int, Query(ge=0)] = 0,
    q: Text = "",
    limit: Limit = 50,
) -> Column:
    """One page of one column."""
    return _public(await engine.board.column(step_id, query=q, offset=offset, limit=limit))
