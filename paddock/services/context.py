"""What every service needs: settings, the database, the event bus, the live log sinks."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_jsonable_python

from paddock.config import Settings
from paddock.runtime.entrypipe import EntryHub
from paddock.runtime.events import EventBus
from paddock.runtime.launcher import Launcher
from paddock.runtime.logpipe import LogHub
from paddock.runtime.sandboxes import Sandboxes
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

    def publish(self, type_: str, project_id: str | None, entity: Any) -> None:
        self.bus.publish(type_, project_id, to_jsonable_python(entity))
