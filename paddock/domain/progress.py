"""An attempt's progress line: the short status an agent reports ("running the tests",
"3 of 5 files done"), shown on its task's card and in the attempt's header.

The agent is the author, so the text is hostile: it becomes one line of plain text, at most
`MAX_PROGRESS_CHARS` characters. Line breaks, tabs and line separators become spaces, other
control characters, bidirectional overrides (which could make the card say something the
text does not) and unpaired surrogates are dropped, runs of spaces become one. Unlike a task's
title, nothing is refused: a status line is best effort, and an agent cannot fix what it cannot
see. Nothing left (blank text) clears the line.
"""

from __future__ import annotations

import re

MAX_PROGRESS_CHARS = 200
# Looked at before cleaning: a megabyte of text is not read to keep 200 characters of it.
_MAX_READ_CHARS = 4 * MAX_PROGRESS_CHARS
_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]")
_DROPPED = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SPACES = re.compile(r"\s{2,}")


def clean_progress(text: str) -> str | None:
    """`text` as one line of at most 200 characters (an ellipsis ends a cut one); None when
    nothing is left of it."""
    line = _DROPPED.sub("", _BREAKS.sub(" ", text[:_MAX_READ_CHARS]))
    line = _SPACES.sub(" ", line).strip()
    if not line:
        return None
    if len(line) > MAX_PROGRESS_CHARS:
        line = line[: MAX_PROGRESS_CHARS - 1].rstrip() + "…"
    return line
