"""The settings page: what this server runs with, the model credentials it gives agents (never
their values), and the agent profiles: installed or not, their versions, their variants."""

from __future__ import annotations

import shlex
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.engine import make_url
from starlette.responses import HTMLResponse

from paddock.agents.base import Permission, Variant
from paddock.agents.install import VERSION_TIMEOUT
from paddock.config import Settings
from paddock.domain.errors import InvalidInput
from paddock.domain.secrets import is_secret_name
from paddock.services.agents import AgentInfo
from paddock.services.engine import Engine
from paddock.web.deps import EngineDep
from paddock.web.ui.agent_views import profile_view, profile_views, with_versions
from paddock.web.ui.forms import env_lines
from paddock.web.ui.present import masked_key, masked_url
from paddock.web.ui.templating import render, render_fragment

router = APIRouter(include_in_schema=False)

VERSION_WAIT = VERSION_TIMEOUT + 5.0  # seconds a version fragment waits for its CLI
MASK = "********"  # how mask_env shows a secret value; sent back unchanged, it keeps the value


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
            "key": masked_key(getattr(settings, f"{prefix}_api_key")),
            "key_var": f"PADDOCK_{prefix.upper()}_API_KEY",
            "url": masked_url(getattr(settings, f"{prefix}_base_url")),
            "url_var": f"PADDOCK_{prefix.upper()}_BASE_URL",
            "used_by": used_by,
        }
        for provider, prefix, used_by in rows
    ]


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request, engine: EngineDep) -> HTMLResponse:
    settings = engine.settings
    facts = [
        ("Data directory", str(settings.data_dir)),
        # Never the password: the URL is shown with it masked.
        ("Database", make_url(settings.database_url).render_as_string(hide_password=True)),
        ("Worktrees", str(settings.worktrees)),
        ("Agent CLIs installed in", str(settings.agents)),
        ("Listening on", f"http://{settings.host}:{settings.port}"),
        ("Log level", settings.log_level),
        ("Grace before SIGKILL", f"{settings.stop_grace_seconds} s"),
    ]
    context = {
        "facts": facts,
        "credentials": credential_rows(settings),
        "profiles": await profile_views(engine),
        "permissions": list(Permission),
    }
    return render(request, "settings/settings.html", context)


async def _profile(request: Request, engine: Engine, info: AgentInfo) -> HTMLResponse:
    """One profile's section, as it is now (the answer of its forms)."""
    (info,) = await with_versions(engine, [info], wait=VERSION_WAIT)
    context = {"profile": profile_view(engine, info), "permissions": list(Permission)}
    return render(request, "settings/_agent.html", context)


@router.get("/ui/agents/{name}/version", response_class=HTMLResponse)
async def agent_version(name: str, engine: EngineDep) -> HTMLResponse:
    """A profile's version once its CLI answered (the settings page loads it after itself)."""
    engine.agents.registry.get(name)  # an unknown profile: its error
    info = next(a for a in engine.agents.list_quick() if a.name == name)
    (info,) = await with_versions(engine, [info], wait=VERSION_WAIT)
    html = render_fragment("settings/_version.html", info=info)
    return HTMLResponse(html)


@router.post("/ui/agents/{name}/install", response_class=HTMLResponse)
async def install_agent(request: Request, name: str, engine: EngineDep) -> HTMLResponse:
    return await _profile(request, engine, await engine.agents.install(name))


@router.post("/ui/agents/{name}/variants", response_class=HTMLResponse)
async def save_variant(
    request: Request,
    name: str,
    engine: EngineDep,
    variant: Annotated[str, Form()],
    permission: Annotated[str, Form()] = Permission.full.value,
    model: Annotated[str, Form()] = "",
    extra_args: Annotated[str, Form()] = "",
    env: Annotated[str, Form()] = "",
) -> HTMLResponse:
    variant_name = variant.strip()
    try:
        args = tuple(shlex.split(extra_args))
    except ValueError as exc:
        raise InvalidInput(f"Extra arguments: {exc}", code="bad_agent_config") from exc
    try:
        mode = Permission(permission)
    except ValueError as exc:
        raise InvalidInput(f"unknown permission {permission!r}", code="bad_agent_config") from exc
    values = env_lines(env, "Environment")
    # A secret value the form showed masked and got back unchanged keeps its stored value.
    current = next(
        (v for v in engine.agents.registry.get(name).variants.values() if v.name == variant_name),
        None,
    )
    for key, value in values.items():
        if value == MASK and is_secret_name(key) and current is not None and key in current.env:
            values[key] = current.env[key]
    spec = Variant(
        name=variant_name,
        model=model.strip() or None,
        permission=mode,
        extra_args=args,
        env=values,
    )
    return await _profile(request, engine, await engine.agents.save_variant(name, spec))


@router.post("/ui/agents/{name}/variants/{variant}/delete", response_class=HTMLResponse)
async def delete_variant(
    request: Request, name: str, variant: str, engine: EngineDep
) -> HTMLResponse:
    return await _profile(request, engine, await engine.agents.delete_variant(name, variant))
