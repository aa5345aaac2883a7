"""The tables, one module per aggregate. Timestamps are UTC; ids are 32-hex strings.

Importing any table imports this package first, and with it every module below: `Base.metadata`
always holds the whole schema (Alembic's env.py and the migrations test compare against it).
"""

from paddock.store.tables import (
    apps,
    artifacts,
    attempts,
    previews,
    processes,
    projects,
    runners,
    tasks,
    test_runs,
)
from paddock.store.tables.base import Base

__all__ = [
    "Base",
    "apps",
    "artifacts",
    "attempts",
    "previews",
    "processes",
    "projects",
    "runners",
    "tasks",
    "test_runs",
]
