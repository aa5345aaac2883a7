"""API docs per attempt: /api/attempts/{id}/openapi (make, read, compare with the base)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import Field

from paddock.domain.public import ArtifactPublic, PublicModel, SpecDiffPublic
from paddock.services.testing.openapi import AttemptSpec, SpecComparison
from paddock.web.deps import OpenApiDep
from paddock.web.error_docs import errors

router = APIRouter(tags=["openapi"])


class AttemptSpecOut(PublicModel):
    """An attempt's latest validated spec: where it is kept and what it says of itself."""

    artifact: ArtifactPublic
    source: str = Field(description='"script" or "preview"')
    title: str
    version: str
    endpoints: int

    @classmethod
    def of(cls, spec: AttemptSpec) -> AttemptSpecOut:
        return cls.read(spec)


class SpecComparisonOut(PublicModel):
    base_commit: str
    head_artifact_id: str
    diff: SpecDiffPublic

    @classmethod
    def of(cls, comparison: SpecComparison) -> SpecComparisonOut:
        return cls.read(comparison)


@router.post(
    "/attempts/{attempt_id}/openapi",
    status_code=status.HTTP_201_CREATED,
    operation_id="generate_openapi",
    responses=errors(409, 500),
)
async def generate_openapi(attempt_id: str, openapi: OpenApiDep) -> AttemptSpecOut:
    """Run the project's openapi script (it writes to $OPENAPI_OUTPUT) or, without one, ask
    the running preview at /openapi.json, /swagger.json, /v3/api-docs, /api-docs. The spec is
    validated (422 `spec_invalid` says where it is wrong) and kept as an artifact."""
    return AttemptSpecOut.of(await openapi.generate(attempt_id))


@router.get("/attempts/{attempt_id}/openapi", operation_id="get_openapi")
async def get_openapi(attempt_id: str, openapi: OpenApiDep) -> Response:
    """The latest validated spec itself (JSON)."""
    document = await openapi.latest_document(attempt_id)
    return Response(document, media_type="application/json")


@router.get("/attempts/{attempt_id}/openapi/info", operation_id="get_openapi_info")
async def get_openapi_info(attempt_id: str, openapi: OpenApiDep) -> AttemptSpecOut:
    return AttemptSpecOut.of(await openapi.latest(attempt_id))


@router.get(
    "/attempts/{attempt_id}/openapi/diff",
    operation_id="diff_openapi",
    responses=errors(409, 500, 503),
)
async def diff_openapi(attempt_id: str, openapi: OpenApiDep) -> SpecComparisonOut:
    """Endpoints added, removed and changed against the base branch's spec (made by the
    openapi script in a checkout of the merge-base, kept per commit)."""
    return SpecComparisonOut.of(await openapi.diff(attempt_id))
