"""/api/agents: the agent profiles, whether each CLI is installed and its version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from paddock.agents.base import Permission
from paddock.domain.public import MaskedEnv, PublicModel
from paddock.inputs import VariantIn
from paddock.inputs.agents import INSTALLABLE, PROFILES, VARIANT_PATTERN
from paddock.services.agents import AgentInfo
from paddock.web.deps import AgentsDep
from paddock.web.error_docs import errors

router = APIRouter(prefix="/agents", tags=["agents"])

# What the registry takes, said in the document (it refuses others: `unknown_agent`,
# `bad_variant_name`, `not_installable`).
Profile = Annotated[str, Path(json_schema_extra={"enum": PROFILES})]
Installable = Annotated[str, Path(json_schema_extra={"enum": INSTALLABLE})]
VariantName = Annotated[str, Path(json_schema_extra={"pattern": VARIANT_PATTERN})]


class VariantOut(PublicModel):
    """A named configuration of a profile: its model, freedom, extra flags, env (masked)."""

    name: str
    model: str | None
    permission: Permission
    extra_args: list[str]
    env: MaskedEnv


class AgentOut(PublicModel):
    """An agent profile: whether its CLI is installed, where, which version; its variants."""

    name: str
    label: str
    program: str
    installed: bool = Field(description="The CLI is in Paddock's agents dir or on PATH")
    executable: str | None
    version: str | None = Field(description="null when not installed or not asked for")
    needs_command: bool = Field(description="The attempt supplies the shell command (script)")
    installable: bool = Field(description="`paddock agents install <name>` can install it")
    variants: list[VariantOut]

    @classmethod
    def of(cls, agent: AgentInfo) -> AgentOut:
        return cls.read(agent)


@router.get("", operation_id="list_agents")
async def list_agents(agents: AgentsDep) -> list[AgentOut]:
    """Every profile with its variants; `installed`, `executable` and `version` come from
    looking for the CLI (Paddock's agents dir first, then PATH) and asking it `--version`
    (once per installed file). Variant env values with secret-looking names are masked."""
    return [AgentOut.of(a) for a in await agents.list_all()]


@router.put("/{name}/variants/{variant}", operation_id="save_agent_variant")
async def save_variant(
    name: Profile, variant: VariantName, body: VariantIn, agents: AgentsDep
) -> AgentOut:
    """Add or replace a variant of the profile, kept in `<data dir>/agents.toml` (the file's
    other content and comments stay). A built-in name (`default`, `plan`) overrides it."""
    return AgentOut.of(await agents.save_variant(name, body.to_variant(variant)))


@router.delete(
    "/{name}/variants/{variant}", operation_id="delete_agent_variant", responses=errors(409)
)
async def delete_variant(name: Profile, variant: str, agents: AgentsDep) -> AgentOut:
    """Remove the user's variant. A built-in variant is refused (`built_in_variant`) unless
    the user changed it: then it is back to how Paddock ships it."""
    return AgentOut.of(await agents.delete_variant(name, variant))


@router.post("/{name}/install", operation_id="install_agent", responses=errors(503))
async def install_agent(name: Installable, agents: AgentsDep) -> AgentOut:
    """Install the CLI from its registry into Paddock's agents dir (npm, or a venv for
    Python CLIs). Takes a while: the answer comes when it is done."""
    return AgentOut.of(await agents.install(name))
