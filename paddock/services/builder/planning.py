"""Which planner answers the founder (settings `builder_planner`): a model API with its key
set, or the offline one, which needs none and says so."""

from __future__ import annotations

from paddock.config import PlannerChoice, Settings
from paddock.domain.errors import Unavailable
from paddock.planners import OfflinePlanner, Planner


def planner_for(settings: Settings) -> Planner:
    """`auto`: Anthropic when its key is set, else OpenAI when its key is set, else offline.
    A model API named outright without its key is refused (`planner_unavailable`)."""
    choice = settings.builder.planner
    agents = settings.agents
    anthropic_key = agents.anthropic_api_key.get_secret_value() if agents.anthropic_api_key else ""
    openai_key = agents.openai_api_key.get_secret_value() if agents.openai_api_key else ""
    timeout = settings.builder.planner_timeout_s
    if choice is PlannerChoice.anthropic or (choice is PlannerChoice.auto and anthropic_key):
        if not anthropic_key:
            raise _no_key("anthropic", "PADDOCK_ANTHROPIC_API_KEY")
        from paddock.planners.anthropic import AnthropicPlanner  # its SDK: on first use

        return AnthropicPlanner(
            anthropic_key,
            agents.anthropic_base_url,
            settings.builder.anthropic_model,
            timeout,
        )
    if choice is PlannerChoice.openai or (choice is PlannerChoice.auto and openai_key):
        if not openai_key:
            raise _no_key("openai", "PADDOCK_OPENAI_API_KEY")
        from paddock.planners.openai import OpenAIPlanner  # its SDK: on first use

        return OpenAIPlanner(
            openai_key, agents.openai_base_url, settings.builder.openai_model, timeout
        )
    return OfflinePlanner()


def _no_key(name: str, env: str) -> Unavailable:
    return Unavailable(
        f"the builder's planner is {name}, but no key is set: set {env}, or builder_planner "
        "= offline",
        code="planner_unavailable",
    )
