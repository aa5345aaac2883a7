"""A database of its own for each attempt's preview, handed over as DATABASE_URL.

- `sqlite`: a file in the attempt's data dir (writable in its sandbox).
- `postgres`: a schema `attempt_<id>` on the configured server, made the connection's
  `search_path` through the URL's `options`; dropped with the attempt.

Functions of the settings, not a service class: they hold no state and touch neither the store
nor the event bus; PreviewService and the Planner call them (the blocking ones in a thread).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from paddock.config import Settings
from paddock.domain.errors import InvalidInput, Unavailable

DATABASES = ("none", "sqlite", "postgres")
_DRIVER = re.compile(r"^postgres(?:ql)?(?:\+\w+)?://")


def check_database(choice: str) -> str:
    if choice not in DATABASES:
        raise InvalidInput(
            f"database must be one of {', '.join(DATABASES)}, not {choice!r}",
            code="bad_database",
        )
    return choice


def attempt_data_dir(settings: Settings, attempt_id: str) -> Path:
    """Files of one attempt that live outside its worktree (its preview's SQLite file)."""
    return settings.storage.data_dir / "attempt-data" / attempt_id


def schema_name(attempt_id: str) -> str:
    return f"attempt_{attempt_id.lower()}"


def server_url(settings: Settings) -> str | None:
    """The PostgreSQL server (libpq URL) per-attempt schemas go to; None when there is none."""
    storage = settings.storage
    url = settings.previews.postgres_url or (storage.database_url if not storage.is_sqlite else "")
    if not _DRIVER.match(url):
        return None
    return _DRIVER.sub("postgresql://", url, count=1)


def sqlite_url(settings: Settings, attempt_id: str) -> str:
    return f"sqlite:///{attempt_data_dir(settings, attempt_id) / 'preview.sqlite3'}"


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    option = "options=" + quote(f"-csearch_path={schema}", safe="")
    query = f"{parts.query}&{option}" if parts.query else option
    return urlunsplit(parts._replace(query=query))


def ensure_schema(settings: Settings, attempt_id: str) -> str:
    """Blocking: create the attempt's schema (once) and return its DATABASE_URL."""
    url = server_url(settings)
    if url is None:
        raise Unavailable(
            "the project's previews use PostgreSQL, but no PostgreSQL server is configured: "
            "set preview_postgres_url (or run Paddock on PostgreSQL)",
            code="no_postgres",
        )
    schema = schema_name(attempt_id)
    _execute(url, f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return with_search_path(url, schema)


def drop_schema(settings: Settings, attempt_id: str) -> None:
    """Blocking: drop the attempt's schema, if a server is configured and it has one."""
    url = server_url(settings)
    if url is not None:
        _execute(url, f'DROP SCHEMA IF EXISTS "{schema_name(attempt_id)}" CASCADE')


def _execute(url: str, statement: str) -> None:
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(statement.encode())
    except psycopg.Error as exc:
        raise Unavailable(
            f"PostgreSQL for previews failed: {str(exc).strip()[:300]}", code="postgres_failed"
        ) from exc
