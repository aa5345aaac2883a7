"""Pages of the builder face: a founder's path from an idea to a running app, in plain words.

    /apps/new      "What do you want to build?"            → AppService.create
    /apps/{id}     what comes next for the app's stage:
                   idea  → the questions                    → AppService.answer
                   brief → the brief, editable              → AppService.edit_brief, make_plan
                   plan  → the option cards                 → AppService.choose
                   building / mvp_built → the build card, versions, timeline (builder_builds.py);
                                          the gate, the change conversation, the header's
                                          iteration badge and alignment (builder_decisions.py);
                                          the deploy section (builder_ship.py); the chat

Each form posts to a /ui route that reads it into the API's own input model (inputs/apps.py)
and calls the same service method as /api/apps; the answer sends the browser back to the app's
page (HX-Redirect), which shows the next step.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from paddock.domain.builder.apps import App, AppStage
from paddock.domain.builder.brief import Brief
from paddock.domain.errors import Conflict
from paddock.domain.public import BuildPublic
from paddock.inputs import AnswersIn, AppCreate, BriefIn, PlanChoice
from paddock.services.builder.apps import AppService
from paddock.services.builder.builds import BuildService
from paddock.services.builder.versions import VersionService
from paddock.web.deps import (
    AppsDep,
    BuildsDep,
    ChangesDep,
    DecisionsDep,
    DeploysDep,
    SettingsDep,
    VersionsDep,
)
from paddock.web.ui import builder_builds, builder_decisions, builder_ship
from paddock.web.ui.builder_builds import build_card_context
from paddock.web.ui.builder_decisions import app_url, decisions_context
from paddock.web.ui.builder_ship import deploy_context, feature_context
from paddock.web.ui.forms import answers_from, parse
from paddock.web.ui.projects import redirect
from paddock.web.ui.templating import render

router = APIRouter(include_in_schema=False)
# The app page's other parts' routes: one page with these.
router.include_router(builder_builds.router)
router.include_router(builder_decisions.router)
router.include_router(builder_ship.router)

OFFLINE_NOTE = "Offline assistant (no API key)"


# -- pages ----------------------------------------------------------------------------------


@router.get("/apps/new", response_class=HTMLResponse)
async def new_app_page(request: Request) -> HTMLResponse:
    return render(request, "builder/new.html")


@router.get("/apps/{app_id}", response_class=HTMLResponse)
async def app_page(
    request: Request,
    app_id: str,
    apps: AppsDep,
    builds: BuildsDep,
    versions: VersionsDep,
    decisions: DecisionsDep,
    changes: ChangesDep,
    deploys: DeploysDep,
    settings: SettingsDep,
) -> HTMLResponse:
    app = await apps.get(app_id)
    context = await app_context(app, apps, builds, versions)
    latest = context["latest"]
    context.update(await decisions_context(app, decisions, changes, latest is not None))
    context.update(feature_context(settings))
    context.update(deploy_context(app.id, latest, deploys))
    return render(request, "builder/app.html", context)


async def app_context(
    app: App, apps: AppService, builds: BuildService, versions: VersionService
) -> dict[str, Any]:
    """What the app's page shows: the step its stage is at, and what came before it."""
    brief = await _brief_or_none(app, apps)
    history = await builds.list_for_app(app.id)
    positions = await builds.queue_positions()
    latest = max(history, key=lambda b: b.number, default=None)
    entries = await apps.timeline_entries(app.id)
    templates = {t.name: t for t in apps.templates()}
    app_versions = await versions.list_for_app(app.id)
    context: dict[str, Any] = {
        "app": app,
        "stage": app.stage.value,
        "mvp_label": AppStage.mvp_built.label,  # the badge's words once the first build is ready
        "offline_note": OFFLINE_NOTE if app.planner == "offline" else "",
        "brief_version": brief[0] if brief else None,
        "brief": brief[1] if brief else None,
        "templates": templates,
        "chosen": templates.get(app.template or ""),
        "versions": app_versions,
        "latest": app_versions[0] if app_versions else None,
        "timeline": list(reversed(entries)),  # newest first
        "last_seq": entries[-1].seq if entries else 0,
        "can_build": app.stage in (AppStage.building, AppStage.mvp_built) and latest is None,
    }
    if latest is not None:
        card = BuildPublic.of(latest, positions.get(latest.id))
        context.update(build_card_context(app, card))
    return context


async def _brief_or_none(app: App, apps: AppService) -> tuple[int, Brief] | None:
    try:
        return await apps.brief(app.id)
    except Conflict:  # no brief yet: the questions come first
        return None


# -- actions --------------------------------------------------------------------------------


@router.post("/ui/apps")
async def create_app(request: Request, apps: AppsDep) -> Response:
    """POST /api/apps, from "What do you want to build?"."""
    form = await request.form()
    body = parse(AppCreate, {"idea": form.get("idea", "")})
    app = await apps.create(body.idea)
    return redirect(app_url(app.id))


@router.post("/ui/apps/{app_id}/answers")
async def answer_questions(request: Request, app_id: str, apps: AppsDep) -> Response:
    """POST /api/apps/{id}/answers: each question's text area, by the question's id."""
    body = parse(AnswersIn, {"answers": answers_from(await request.form())})
    await apps.answer(app_id, body.answers)
    return redirect(app_url(app_id))


@router.post("/ui/apps/{app_id}/brief")
async def edit_brief(request: Request, app_id: str, apps: AppsDep) -> Response:
    """PUT /api/apps/{id}/brief: the whole brief as edited, a new version of it."""
    body = parse(BriefIn, brief_values(await request.form()), fields=BRIEF_FIELDS)
    await apps.edit_brief(app_id, body.brief())
    return redirect(app_url(app_id))


# The form field of each part of BriefIn it fills in another shape.
BRIEF_FIELDS = {"features": "feature_name", "non_goals": "non_goals"}


def brief_values(form: FormData) -> dict[str, Any]:
    """The brief form as BriefIn's fields: a row per feature (name and description side by
    side; a row left blank is dropped), the non-goals one per line."""
    names = form.getlist("feature_name")
    descriptions = form.getlist("feature_description")
    features = [
        {"name": str(name), "description": str(description)}
        for name, description in zip(names, descriptions, strict=False)
        if str(name).strip() or str(description).strip()
    ]
    non_goals = [line.strip() for line in str(form.get("non_goals", "")).splitlines()]
    return {
        "name": form.get("name", ""),
        "problem": form.get("problem", ""),
        "users": form.get("users", ""),
        "features": features,
        "non_goals": [line for line in non_goals if line],
    }


@router.post("/ui/apps/{app_id}/plan")
async def make_plan(app_id: str, apps: AppsDep) -> Response:
    """POST /api/apps/{id}/plan: the option cards."""
    await apps.make_plan(app_id)
    return redirect(app_url(app_id))


@router.post("/ui/apps/{app_id}/plan/choice")
async def choose_plan(request: Request, app_id: str, apps: AppsDep) -> Response:
    """PUT /api/apps/{id}/plan/choice: the card picked; "Build it" comes next."""
    body = parse(PlanChoice, {"template": (await request.form()).get("template", "")})
    await apps.choose(app_id, body.template)
    return redirect(app_url(app_id))


@router.post("/ui/apps/{app_id}/builds")
async def start_build(app_id: str, builds: BuildsDep) -> Response:
    """POST /api/apps/{id}/builds: "Build it"."""
    await builds.start(app_id)
    return redirect(app_url(app_id))
