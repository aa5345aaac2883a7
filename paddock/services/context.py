"""What every service needs: settings, the database, the event bus, the live log sinks."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from paddock.config import Settings
from paddock.domain.events import EventType
from paddock.runtime.entrypipe import EntryHub
from paddock.runtime.events import EventBus
from paddock.runtime.launcher import Launcher
from paddock.runtime.logpipe import LogHub
from paddock.runtime.sandbox.sandboxes import Sandboxes
from paddock.store.db import Database
from paddock.store.logs import LogWriter

log = logging.getLogger("paddock")


@dataclass
class Context:
    settings: Settings
    db: Database
    bus: EventBus
    logs: LogHub
    log_writer: LogWriter
    launcher: Launcher
    sandboxes: Sandboxes
    entries: EntryHub = field(default_factory=EntryHub)
    # This server's id as the runner of the attempts it makes, when servers share the database
    # (cluster_redis_url); None: the only server, which reconciles every attempt.
    runner_id: str | None = None

    def publish(self, type_: EventType, project_id: str | None, payload: object) -> None:
        """Publish a state change: a catalogue type and its payload (domain/events.py)."""
        self.bus.publish(type_, project_id, payload)
