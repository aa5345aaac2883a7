"""Planners: the assistant behind the builder's clarifying questions, brief and plan options.

The issue calls this interface a "Runner"; in Paddock a runner is a worker machine, so here it
is the *planner*. `Planner` (base.py) is the protocol; `OfflinePlanner` needs no model or
network; `AnthropicPlanner` and `OpenAIPlanner` ask a language model through the official SDKs
and validate its JSON answer (model.py). Anything unusable is a `PlannerFailed` (502).

Layer 1: imports paddock.domain only.
"""

from typing import TYPE_CHECKING, Any

from paddock.planners.base import Judgement, Planner, PlannerFailed
from paddock.planners.offline import OfflinePlanner

if TYPE_CHECKING:
    from paddock.planners.anthropic import AnthropicPlanner
    from paddock.planners.openai import OpenAIPlanner

# The SDK planners import their SDKs (~40 and ~25 MB): loaded when first asked for (a key is
# set), not by every server that imports this package.
_LAZY = {
    "AnthropicPlanner": "paddock.planners.anthropic",
    "OpenAIPlanner": "paddock.planners.openai",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AnthropicPlanner",
    "Judgement",
    "OfflinePlanner",
    "OpenAIPlanner",
    "Planner",
    "PlannerFailed",
]
