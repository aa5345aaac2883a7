"""Planners: the assistant behind the builder's clarifying questions, brief and plan options.

The issue calls this interface a "Runner"; in Paddock a runner is a worker machine, so here it
is the *planner*. `Planner` (base.py) is the protocol; `OfflinePlanner` needs no model or
network; `AnthropicPlanner` and `OpenAIPlanner` ask a language model through the official SDKs
and validate its JSON answer (model.py). Anything unusable is a `PlannerFailed` (502).

Layer 1: imports paddock.domain only.
"""

from paddock.planners.anthropic import AnthropicPlanner
from paddock.planners.base import Judgement, Planner, PlannerFailed
from paddock.planners.offline import OfflinePlanner
from paddock.planners.openai import OpenAIPlanner

__all__ = [
    "AnthropicPlanner",
    "Judgement",
    "OfflinePlanner",
    "OpenAIPlanner",
    "Planner",
    "PlannerFailed",
]
