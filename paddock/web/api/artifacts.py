"""Artifacts: files processes produced (/api/processes/{id}/artifacts, /api/artifacts/{id}).

Their content was written by code an agent may have written: downloads are attachments, and a
report viewed in place (…/artifacts/files/<name>) runs as an opaque origin (CSP sandbox), never
as Paddock's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import FileResponse

from paddock.domain.artifact import Artifact, ArtifactKind
from paddock.domain.errors import NotFound
from paddock.domain.public import ArtifactPublic
from paddock.services.testing.artifacts import ArtifactService
from paddock.web.deps import ArtifactsDep, AttemptsDep, ProcessesDep

router = APIRouter(tags=["artifacts"])

_SANDBOX = "sandbox allow-scripts allow-popups allow-downloads"


def _file(artifacts: ArtifactService, artifact: Artifact, *, inline: bool) -> FileResponse:
    path = artifacts.path_of(artifact.id)
    if not path.is_file():
        raise NotFound(f"the file of artifact {artifact.id} is gone", code="artifact_file_missing")
    name = artifact.name.rsplit("/", 1)[-1]
    return FileResponse(
        path,
        media_type=artifact.mime_type,
        filename=None if inline else name,
        content_disposition_type="inline" if inline else "attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": _SANDBOX,
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/processes/{process_id}/artifacts", operation_id="list_process_artifacts")
async def list_process_artifacts(
    process_id: str, processes: ProcessesDep, artifacts: ArtifactsDep
) -> list[ArtifactPublic]:
    await processes.get(process_id)
    return [ArtifactPublic.of(a) for a in await artifacts.list_for_process(process_id)]


@router.get(
    "/processes/{process_id}/artifacts/files/{name:path}",
    operation_id="view_process_artifact",
    response_class=FileResponse,
)
async def view_process_artifact(
    process_id: str, name: str, artifacts: ArtifactsDep
) -> FileResponse:
    """One file by its name in the process's artifact folder, shown in place: an HTML report's
    relative links to its other files work."""
    artifact = await artifacts.by_name(process_id, name)
    if artifact is None:
        raise NotFound(f"process {process_id} has no artifact {name!r}", code="artifact_not_found")
    return _file(artifacts, artifact, inline=True)


@router.get("/attempts/{attempt_id}/artifacts", operation_id="list_attempt_artifacts")
async def list_attempt_artifacts(
    attempt_id: str,
    attempts: AttemptsDep,
    artifacts: ArtifactsDep,
    kind: Annotated[ArtifactKind | None, Query(description="Only this kind")] = None,
) -> list[ArtifactPublic]:
    """Newest first."""
    await attempts.get(attempt_id)
    return [ArtifactPublic.of(a) for a in await artifacts.list_for_attempt(attempt_id, kind)]


@router.get("/artifacts/{artifact_id}", operation_id="get_artifact")
async def get_artifact(artifact_id: str, artifacts: ArtifactsDep) -> ArtifactPublic:
    return ArtifactPublic.of(await artifacts.get(artifact_id))


@router.get(
    "/artifacts/{artifact_id}/download",
    operation_id="download_artifact",
    response_class=FileResponse,
)
async def download_artifact(artifact_id: str, artifacts: ArtifactsDep) -> FileResponse:
    return _file(artifacts, await artifacts.get(artifact_id), inline=False)


@router.delete(
    "/artifacts/{artifact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_artifact",
)
async def delete_artifact(artifact_id: str, artifacts: ArtifactsDep) -> None:
    await artifacts.delete(artifact_id)
