"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from paddock.services.engine import Engine


async def get_engine(request: Request) -> Engine:
    # async: a plain def would run in the thread pool, a thread hop on every request.
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]
