"""The settings page: what this server runs with, the model credentials it gives agents (never
their values), and the agent profiles: installed or not, their versions, their variants."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.engine import make_url
from starlette.responses import HTMLResponse

from paddock.agents.base import Permission
from paddock.agents.install import VERSION_TIMEOUT
from paddock.config import Settings
from paddock.domain.errors import InvalidInput
from paddock.inputs import VariantIn
from paddock.services.agents import AgentInfo, AgentService
from paddock.web.deps import AgentsDep, SettingsDep
from paddock.web.ui.agent_views import profile_view, profile_views, with_versions
from paddock.web.ui.forms import env_lines, parse, sent
from paddock.web.ui.present import masked_key, masked_url
from paddock.web.ui.templating import render, render_fragment

router = APIRouter(include_in_schema=False)

VERSION_WAIT = VERSION_TIMEOUT + 5.0  # seconds a version fragment waits for its CLI


def credential_rows(settings: Settings) -> list[dict[str, str]]:
    """The model APIs' keys (masked) and base URLs, with the variable that sets each."""
    rows = [
        ("Anthropic", "anthropic", "Claude Code, Aider"),
        ("OpenAI", "openai", "Codex, Aider"),
        ("Gemini", "gemini", "Gemini CLI"),
    ]
    return [
        {
            "provider": provider,
            "key": masked_key(getattr(settings.agents, f"{prefix}_api_key")),
            "key_var": f"PADDOCK_{prefix.upper()}_API_KEY",
            "url": masked_url(getattr(settings.agents, f"{prefix}_base_url")),
            "url_var": f"PADDOCK_{prefix.upper()}_BASE_URL",
            "used_by": used_by,
        }
        for provider, prefix, used_by in rows
    ]


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request, settings: SettingsDep, agents: AgentsDep) -> HTMLResponse:
    facts = [
        ("Data directory", str(settings.storage.data_dir)),
        # Never the password: the URL is shown with it masked.
        ("Database", make_url(settings.storage.database_url).render_as_string(hide_password=True)),
        ("Worktrees", str(settings.storage.worktrees)),
        ("Agent CLIs installed in", str(settings.agents.clis)),
        ("Listening on", f"http://{settings.server.host}:{settings.server.port}"),
        ("Log level", settings.server.log_level),
        ("Grace before SIGKILL", f"{settings.processes.stop_grace_seconds} s"),
    ]
    context = {
        "facts": facts,
        "credentials": credential_rows(settings),
        "profiles": await profile_views(agents),
        "permissions": list(Permission),
    }
    return render(request, "settings/settings.html", context)


async def _profile(request: Request, agents: AgentService, info: AgentInfo) -> HTMLResponse:
    """One profile's section, as it is now (the answer of its forms)."""
    (info,) = await with_versions(agents, [info], wait=VERSION_WAIT)
    context = {"profile": profile_view(agents, info), "permissions": list(Permission)}
    return render(request, "settings/_agent.html", context)


@router.get("/ui/agents/{name}/version", response_class=HTMLResponse)
async def agent_version(name: str, agents: AgentsDep) -> HTMLResponse:
    """A profile's version once its CLI answered (the settings page loads it after itself)."""
    agents.registry.get(name)  # an unknown profile: its error
    info = next(a for a in agents.list_quick() if a.name == name)
    (info,) = await with_versions(agents, [info], wait=VERSION_WAIT)
    html = render_fragment("settings/_version.html", info=info)
    return HTMLResponse(html)


@router.post("/ui/agents/{name}/install", response_class=HTMLResponse)
async def install_agent(request: Request, name: str, agents: AgentsDep) -> HTMLResponse:
    return await _profile(request, agents, await agents.install(name))


@router.post("/ui/agents/{name}/variants", response_class=HTMLResponse)
async def save_variant(request: Request, name: str, agents: AgentsDep) -> HTMLResponse:
    """PUT /api/agents/{name}/variants/{variant}, from a variant's form (which names the
    variant in a field). A secret value it showed masked and got back unchanged keeps its
    stored value, as through the API (AgentService.save_variant)."""
    form = await request.form()
    body = parse(VariantIn, _variant_values(form))
    variant = body.to_variant(str(form.get("variant", "")).strip())
    return await _profile(request, agents, await agents.save_variant(name, variant))


def _variant_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """The variant form as VariantIn's fields: the extra arguments as a shell would split
    them, the variables as NAME=value lines."""
    try:
        args = shlex.split(str(form.get("extra_args", "")))
    except ValueError as exc:
        raise InvalidInput(
            f"Extra arguments: {exc}", code="bad_agent_config", field="extra_args"
        ) from exc
    env = env_lines(str(form.get("env", "")), "Environment")
    return {**sent(form, "model", "permission"), "extra_args": args, "env": env}


@router.post("/ui/agents/{name}/variants/{variant}/delete", response_class=HTMLResponse)
async def delete_variant(
    request: Request, name: str, variant: str, agents: AgentsDep
) -> HTMLResponse:
    return await _profile(request, agents, await agents.delete_variant(name, variant))
