"""The builder face's "Ship" section (#deploy): a version's deploy readiness and its export.

    "Check deploy readiness"  → DeployService.readiness (runs the unit tests and the production
                                build: seconds) → the traffic light, the blocking issues with
                                their fixes, the warnings, the passes, the deploy paths
    "Download v0.x (.zip)"    → GET /api/apps/{id}/versions/{version}/archive (a plain link)
    push form                 → DeployService.push (remote, branch)

The check and the push answer with the part of the section they change (htmx swaps it in), so
the result shows where the button was. A kept result (DeployService.kept: the same commit was
checked already) shows when the page loads. The section exists only while the
`deploy_readiness` feature flag is on (its routes answer 403 `feature_disabled` otherwise) and
is labelled Beta while the flag is.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from paddock.config import Settings
from paddock.domain.builder.versions import Version
from paddock.domain.features import FEATURES
from paddock.domain.public import DeployReadinessPublic, PushedPublic
from paddock.inputs import VersionPush
from paddock.services.builder.deploy import DeployService
from paddock.web.deps import DeploysDep, require_feature
from paddock.web.ui.forms import parse, sent
from paddock.web.ui.templating import render_fragment

FLAG = "deploy_readiness"
router = APIRouter(include_in_schema=False, dependencies=[Depends(require_feature(FLAG))])


def feature_context(settings: Settings) -> dict[str, Any]:
    """Which of the builder's beta parts this server shows, and which are labelled Beta."""
    return {
        "deploy_on": settings.flags.enabled(FLAG),
        "deploy_beta": FEATURES[FLAG].beta,
        "chat_on": settings.flags.enabled("builder_chat"),
        "chat_beta": FEATURES["builder_chat"].beta,
    }


def deploy_context(app_id: str, latest: Version | None, deploys: DeployService) -> dict[str, Any]:
    """What builder/_deploy.html shows on load: the latest version, and its readiness when it
    was checked already (nothing is run for the page)."""
    if latest is None:
        return {"latest": None, "readiness": None}
    kept = deploys.kept(app_id, latest.commit)
    readiness = DeployReadinessPublic.of(app_id, latest.name, latest.commit, kept) if kept else None
    return {"latest": latest, "readiness": readiness}


def archive_url(app_id: str, version: str) -> str:
    return f"/api/apps/{app_id}/versions/{version}/archive"


@router.post("/ui/apps/{app_id}/deploy-check", response_class=HTMLResponse)
async def check_readiness(app_id: str, deploys: DeploysDep) -> HTMLResponse:
    """GET /api/apps/{id}/deploy-readiness?fresh=true for the latest version: the result."""
    found = await deploys.readiness(app_id, None, fresh=True)
    readiness = DeployReadinessPublic.of(found.app_id, found.version, found.commit, found.readiness)
    html = render_fragment("builder/_deploy_result.html", readiness=readiness)
    return HTMLResponse(html, headers={"cache-control": "no-store"})


@router.post("/ui/apps/{app_id}/versions/{version}/push", response_class=HTMLResponse)
async def push_version(
    request: Request, app_id: str, version: str, deploys: DeploysDep
) -> HTMLResponse:
    """POST /api/apps/{id}/versions/{version}/push: where it went, in a sentence."""
    body = parse(VersionPush, sent(await request.form(), "remote", "branch"))
    pushed = PushedPublic.read(
        await deploys.push(app_id, version, body.remote, body.branch, force=body.force)
    )
    said = f"{version} is on {pushed.remote}/{pushed.branch} (commit {pushed.commit[:10]})."
    return HTMLResponse(render_fragment("builder/_pushed.html", said=said))
