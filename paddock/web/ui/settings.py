"""The settings page: what this server runs with, and the agent profiles it knows."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.engine import make_url
from starlette.responses import HTMLResponse

from paddock.web.deps import EngineDep
from paddock.web.ui.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request, engine: EngineDep) -> HTMLResponse:
    settings = engine.settings
    facts = [
        ("Data directory", str(settings.data_dir)),
        # Never the password: the URL is shown with it masked.
        ("Database", make_url(settings.database_url).render_as_string(hide_password=True)),
        ("Worktrees", str(settings.worktrees)),
        ("Listening on", f"http://{settings.host}:{settings.port}"),
        ("Log level", settings.log_level),
        ("Grace before SIGKILL", f"{settings.stop_grace_seconds} s"),
    ]
    context = {"facts": facts, "agents": await engine.agents.list_all()}
    return render(request, "settings/settings.html", context)
