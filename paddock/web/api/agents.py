"""/api/agents: the agent profiles, whether each CLI is installed and its version."""

from __future__ import annotations

from fastapi import APIRouter

from paddock.services.agents import AgentInfo
from paddock.web.deps import EngineDep

router = APIRouter(prefix="/agents", tags=["agents"])


@router.get("", operation_id="list_agents")
async def list_agents(engine: EngineDep) -> list[AgentInfo]:
    """Every profile with its variants; `installed`, `executable` and `version` come from
    looking for the CLI (Paddock's agents dir first, then PATH) and asking it `--version`."""
    return await engine.agents.list_all()


@router.post("/{name}/install", operation_id="install_agent")
async def install_agent(name: str, engine: EngineDep) -> AgentInfo:
    """Install the CLI from its registry into Paddock's agents dir (npm, or a venv for
    Python CLIs). Takes a while: the answer comes when it is done."""
    return await engine.agents.install(name)
