"""Who else acts when an attempt's agent starts working or its turn ends: the card flow moves
the card (services/card_flow.py), the preview starts (services/previews/preview_autostart.py).

The attempt's run calls each watcher in turn and waits for it (at a turn's end, before the
attempt becomes `awaiting_review`); a watcher that fails is logged and never stops the run.
"""

from __future__ import annotations

from typing import Protocol

from paddock.domain.entities import Attempt
from paddock.services.context import log


class AttemptWatcher(Protocol):
    async def started(self, attempt: Attempt) -> None:
        """The agent is about to work: the attempt was just started, or a follow-up's turn
        begins."""

    async def turn_ended(self, attempt: Attempt) -> None:
        """The agent's turn ended well: the attempt is about to await review (its status
        changes once every watcher is done)."""


class AttemptWatchers:
    """The watchers of every attempt, told in the order they were added."""

    def __init__(self) -> None:
        self._watchers: list[AttemptWatcher] = []

    def add(self, watcher: AttemptWatcher) -> None:
        self._watchers.append(watcher)

    async def started(self, attempt: Attempt) -> None:
        for watcher in self._watchers:
            try:
                await watcher.started(attempt)
            except Exception:
                log.exception("attempt %s: %r failed on its start", attempt.id, watcher)

    async def turn_ended(self, attempt: Attempt) -> None:
        for watcher in self._watchers:
            try:
                await watcher.turn_ended(attempt)
            except Exception:
                log.exception("attempt %s: %r failed at its turn's end", attempt.id, watcher)
