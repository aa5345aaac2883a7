"""What every table is built on: the declarative base, ids (32-hex strings, see
domain.names.new_id) and UTC timestamps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite hands back the text SQLAlchemy stored ("2026-01-02 03:04:05.678901", UTC):
        # one C-level parse instead of a regex and a second pass (lists of tasks are hot).
        return _parse_sqlite_utc


def _parse_sqlite_utc(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value + "+00:00")


# How SQLAlchemy stores a DateTime in SQLite: "2026-01-02 03:04:05.678901", always 26 characters.
_SQLITE_DATETIME_LENGTH = 26


def sqlite_utc_json(value: str) -> str | datetime:
    """A stored SQLite timestamp as the API's JSON writes it, without building a datetime.

    pydantic writes an aware UTC datetime as "2026-01-02T03:04:05.678901Z", and without the
    fraction when it is zero ("2026-01-02T03:04:05Z"); from the stored text that is two string
    replacements. Text in any other shape is parsed, and pydantic formats the datetime itself.
    """
    if len(value) == _SQLITE_DATETIME_LENGTH:
        return value.replace(" ", "T", 1).replace(".000000", "", 1) + "Z"
    parsed = _parse_sqlite_utc(value)
    assert parsed is not None
    return parsed


def utcnow() -> datetime:
    return datetime.now(UTC)


ID = String(32)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}
