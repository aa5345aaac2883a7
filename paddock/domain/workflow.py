"""Workflow steps: the board's columns."""

from __future__ import annotations

# (name, colour) of the steps every new project starts with.
DEFAULT_STEPS: tuple[tuple[str, str], ...] = (
    ("To do", "#64748b"),
    ("In progress", "#2563eb"),
    ("In review", "#d97706"),
    ("Done", "#16a34a"),
    ("Cancelled", "#9ca3af"),
)

POSITION_GAP = 1024.0


def position_between(before: float | None, after: float | None) -> float:
    """A position strictly between two neighbours (None = the end), so a move touches one row."""
    if before is None and after is None:
        return POSITION_GAP
    if before is None:
        assert after is not None
        return after - POSITION_GAP
    if after is None:
        return before + POSITION_GAP
    return (before + after) / 2
