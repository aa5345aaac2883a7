"""/api/apps/{id}/deploy-readiness and a version's export (download, push): the "ship" side of
the builder (docs/builder.md). Behind the `deploy_readiness` feature flag."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Query
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from paddock.domain.public import DeployReadinessPublic, PushedPublic
from paddock.inputs import VersionPush
from paddock.web.deps import DeploysDep, require_feature
from paddock.web.error_docs import errors

router = APIRouter(
    tags=["deploy"],
    dependencies=[
        Depends(require_feature("builder")),
        Depends(require_feature("deploy_readiness")),
    ],
)


@router.get(
    "/apps/{app_id}/deploy-readiness",
    operation_id="get_deploy_readiness",
    responses=errors(409, 500, 503),
)
async def get_deploy_readiness(
    app_id: str,
    deploys: DeploysDep,
    version: str | None = Query(None, description="A version's name; default: the latest"),
    fresh: bool = Query(False, description="Run the checks again (a commit's are kept)"),
) -> DeployReadinessPublic:
    """Is the version ready to deploy: README, documented environment variables, a start
    command, no secrets in the code, pinned dependencies, the unit tests and the production
    build run at that version; a traffic light and 2-3 ways to deploy it."""
    found = await deploys.readiness(app_id, version, fresh=fresh)
    return DeployReadinessPublic.of(found.app_id, found.version, found.commit, found.readiness)


@router.get(
    "/apps/{app_id}/versions/{version}/archive",
    operation_id="download_version",
    responses=errors(409, 500, 503),
    response_class=FileResponse,
)
async def download_version(app_id: str, version: str, deploys: DeploysDep) -> FileResponse:
    """The version's files as a zip, made by git from its commit."""
    folder = Path(tempfile.mkdtemp(prefix="paddock-export-"))
    try:
        made = await deploys.archive(app_id, version, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        made,
        media_type="application/zip",
        filename=made.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.post(
    "/apps/{app_id}/versions/{version}/push",
    operation_id="push_version",
    responses=errors(409, 500, 503),
)
async def push_version(
    app_id: str, version: str, body: VersionPush, deploys: DeploysDep
) -> PushedPublic:
    """Push the version to a branch of a remote of the app's repository (git's own
    credentials); not a fast-forward is refused (`push_rejected`) unless `force`."""
    pushed = await deploys.push(app_id, version, body.remote, body.branch, force=body.force)
    return PushedPublic.read(pushed)
