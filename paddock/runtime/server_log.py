"""The server's own log: text lines for a terminal, or one JSON object per line for a log
collector (`log_format = "json"`; docs/reliability.md, "Metrics and logs").

A JSON line has `time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id` when it was
written while a request was being answered (or by work that request started), `debug_id` when
it tells of a failure whose id an API answer carries, and `exception` with the traceback.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Set by the web layer for each request (web/observe.py). Tasks a request starts copy it, so
# an attempt's run logs the id of the request that started it.
REQUEST_ID: ContextVar[str | None] = ContextVar("paddock_request_id", default=None)

# Paddock's failures name their debug id in their message, `[debug_id=…]` (web/errors.py and
# the services alike): a JSON line lifts it into a field of its own.
_DEBUG_ID = re.compile(r"\[debug_id=([A-Za-z0-9_-]+)\]")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        debug_id = getattr(record, "debug_id", None)
        if debug_id is None:
            found = _DEBUG_ID.search(message)
            debug_id = found.group(1) if found else None
        if debug_id is not None:
            line["debug_id"] = str(debug_id)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str, *, as_json: bool) -> None:
    """The root logger's one handler, on stderr: JSON lines, or text."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
