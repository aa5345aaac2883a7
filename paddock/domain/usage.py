"""Tokens and money spent by agent turns, summed from their `usage` entries.

Most CLIs report what one run spent. Codex reports its thread's running total instead (a resumed
turn includes the earlier ones): such reports are marked `cumulative` and count as the difference
to the same session's previous report, so follow-ups are not counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None  # None: no turn reported a cost
    turns: int = 0  # agent turns that reported usage

    def __add__(self, other: Usage) -> Usage:
        cost = None
        if self.cost_usd is not None or other.cost_usd is not None:
            cost = round((self.cost_usd or 0.0) + (other.cost_usd or 0.0), 6)
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            cost,
            self.turns + other.turns,
        )

    def since(self, earlier: Usage) -> Usage:
        """What was spent after `earlier`, both being running totals of one session."""
        cost = None
        if self.cost_usd is not None:
            cost = max(0.0, self.cost_usd - (earlier.cost_usd or 0.0))
        return Usage(
            max(0, self.input_tokens - earlier.input_tokens),
            max(0, self.output_tokens - earlier.output_tokens),
            cost,
        )


@dataclass(frozen=True, slots=True)
class UsageReport:
    """One `usage` entry and the turn it belongs to, in the order the turns ran."""

    process_id: str
    attempt_id: str
    task_id: str
    session: str | None  # the agent's own session id of the turn
    payload: Mapping[str, Any]


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def reported(payload: Mapping[str, Any]) -> Usage:
    cost = payload.get("cost_usd")
    return Usage(
        _number(payload.get("input_tokens")),
        _number(payload.get("output_tokens")),
        float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None,
    )


def per_turn(reports: Iterable[UsageReport]) -> dict[str, Usage]:
    """Usage per agent turn (process id), each turn counted once."""
    turns: dict[str, Usage] = {}
    running: dict[str, Usage] = {}  # session → its last cumulative report
    for report in reports:
        spent = reported(report.payload)
        if report.payload.get("cumulative"):
            key = report.session or report.process_id
            spent, running[key] = spent.since(running.get(key, Usage())), spent
        turns[report.process_id] = turns.get(report.process_id, Usage(turns=1)) + spent
    return turns


def total(usages: Iterable[Usage]) -> Usage:
    result = Usage()
    for usage in usages:
        result += usage
    return result
