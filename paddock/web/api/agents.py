"""/api/agents: the agent profiles, whether each CLI is installed and its version."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from paddock.agents.base import Permission, Variant
from paddock.services.agents import AgentInfo
from paddock.web.deps import AgentsDep

router = APIRouter(prefix="/agents", tags=["agents"])


@router.get("", operation_id="list_agents")
async def list_agents(agents: AgentsDep) -> list[AgentInfo]:
    """Every profile with its variants; `installed`, `executable` and `version` come from
    looking for the CLI (Paddock's agents dir first, then PATH) and asking it `--version`
    (once per installed file). Variant env values with secret-looking names are masked."""
    return await agents.list_all()


class VariantIn(BaseModel):
    model: str | None = Field(None, description="The CLI's model name; null: its default")
    permission: Permission = Permission.full
    extra_args: list[str] = Field(default_factory=list, description="Appended to the command")
    env: dict[str, str] = Field(default_factory=dict, description="Added to the environment")


@router.put("/{name}/variants/{variant}", operation_id="save_agent_variant")
async def save_variant(name: str, variant: str, body: VariantIn, agents: AgentsDep) -> AgentInfo:
    """Add or replace a variant of the profile, kept in `<data dir>/agents.toml` (the file's
    other content and comments stay). A built-in name (`default`, `plan`) overrides it."""
    spec = Variant(
        name=variant,
        model=body.model or None,
        permission=body.permission,
        extra_args=tuple(body.extra_args),
        env=body.env,
    )
    return await agents.save_variant(name, spec)


@router.delete("/{name}/variants/{variant}", operation_id="delete_agent_variant")
async def delete_variant(name: str, variant: str, agents: AgentsDep) -> AgentInfo:
    """Remove the user's variant. A built-in variant is refused (`built_in_variant`) unless
    the user changed it: then it is back to how Paddock ships it."""
    return await agents.delete_variant(name, variant)


@router.post("/{name}/install", operation_id="install_agent")
async def install_agent(name: str, agents: AgentsDep) -> AgentInfo:
    """Install the CLI from its registry into Paddock's agents dir (npm, or a venv for
    Python CLIs). Takes a while: the answer comes when it is done."""
    return await agents.install(name)
