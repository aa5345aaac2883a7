"""Landing an attempt on its base branch: the strategies, and the record of a merge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MergeStrategy(StrEnum):
    squash = "squash"  # one commit on the base with the attempt's whole change (the default)
    merge = "merge"  # a merge commit whose second parent is the attempt's head
    rebase = "rebase"  # the attempt's commits as they are, the base fast-forwarded to them


@dataclass(frozen=True, slots=True)
class MergeRecord:
    commit: str  # the base branch's new tip
    strategy: MergeStrategy
    into: str  # the base branch
    head: str  # the attempt's head that was merged
    merged_at: datetime
