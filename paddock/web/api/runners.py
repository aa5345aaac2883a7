"""/api/runners: the machines a team's Paddock runs attempts on (docs/scale-out.md); and the one
door a runner uses with its own token, /api/runner/session."""

from __future__ import annotations

from fastapi import APIRouter, Header, status

from paddock.domain.errors import Unauthorized
from paddock.domain.public import (
    CapacityPublic,
    RunnerCreatedPublic,
    RunnerPublic,
    RunnerSessionPublic,
)
from paddock.inputs.runners import RunnerCreate
from paddock.services.runners import RunnerState
from paddock.web.deps import RunnersDep
from paddock.web.error_docs import errors

router = APIRouter(tags=["runners"])


def _public(state: RunnerState) -> RunnerPublic:
    runner = state.runner
    return RunnerPublic(
        id=runner.id,
        name=runner.name,
        labels=runner.labels,
        created_at=runner.created_at,
        revoked=runner.revoked,
        online=state.capacity is not None,
        capacity=None if state.capacity is None else CapacityPublic.read(state.capacity),
        last_beat_at=state.last_beat_at,
    )


@router.get("/runners", operation_id="list_runners")
async def list_runners(runners: RunnersDep) -> list[RunnerPublic]:
    """Every runner, online or not, with what its last beat said."""
    return [_public(s) for s in await runners.list_all()]


@router.post(
    "/runners",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_runner",
    responses=errors(409),
)
async def create_runner(body: RunnerCreate, runners: RunnersDep) -> RunnerCreatedPublic:
    """A new runner, and its token — shown this once; start the runner with it
    (`paddock runner --server URL --token T`)."""
    runner, token = await runners.create(body.name, body.labels)
    return RunnerCreatedPublic(runner=_public(RunnerState(runner, None, None)), token=token)


@router.get("/runners/{runner_id}", operation_id="get_runner")
async def get_runner(runner_id: str, runners: RunnersDep) -> RunnerPublic:
    return _public(await runners.get(runner_id))


@router.delete("/runners/{runner_id}", operation_id="revoke_runner")
async def revoke_runner(runner_id: str, runners: RunnersDep) -> RunnerPublic:
    """Revoke the runner: its token stops working and its access to Redis ends at once."""
    return _public(await runners.revoke(runner_id))


@router.post("/runner/session", operation_id="open_runner_session", responses=errors(409))
async def open_runner_session(
    runners: RunnersDep,
    authorization: str | None = Header(None, description="`Bearer <the runner's token>`"),
) -> RunnerSessionPublic:
    """A runner's first call, with its own token (not the user's): its Redis user, made for
    this session (the last session's password stops working)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the runner's token: Bearer <token>", code="bad_runner_token")
    return RunnerSessionPublic.read(await runners.open_session(token.strip()))
