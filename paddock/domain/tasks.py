"""What a task's title and description may hold.

A title is one line of text: it shows on a card, in a terminal (the CLI), in a branch name's
slug and a commit subject, so control characters (NUL, ESC, CR, LF, ...) and line separators
are refused, not stripped: what the user sent is either stored as it is or refused with a code.
A description is free text with a bound: tabs and line breaks are fine, other control
characters are refused (NUL cannot even be stored in PostgreSQL), and its size is capped.
The API, the UI's forms and the CLI all reach these rules through the task service.
"""

from __future__ import annotations

import re

from paddock.domain.errors import InvalidInput

MAX_TITLE_CHARS = 500
MAX_DESCRIPTION_BYTES = 64 * 1024  # UTF-8
# Control characters (Unicode's Cc: C0, DEL, C1) and unpaired surrogates (no UTF-8 for them);
# a title also refuses the line and paragraph separators.
_TITLE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_DESCRIPTION_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_title(title: str) -> str:
    """The title without surrounding spaces; InvalidInput `bad_title` unless it has 1 to 500
    characters and no control character or line separator."""
    title = title.strip()
    if not title or len(title) > MAX_TITLE_CHARS:
        raise InvalidInput(
            f"a task title needs 1 to {MAX_TITLE_CHARS} characters", code="bad_title"
        )
    bad = _TITLE_BAD.search(title)
    if bad is not None:
        raise InvalidInput(
            "a task title is one line of text: no control characters "
            f"(found U+{ord(bad.group()):04X})",
            code="bad_title",
        )
    return title


def check_description(description: str) -> str:
    """The description as given; InvalidInput `description_too_large` above 64 KiB (UTF-8),
    `bad_description` when it holds a control character other than tab, CR and LF."""
    if len(description) > MAX_DESCRIPTION_BYTES or (
        len(description.encode("utf-8", "surrogatepass")) > MAX_DESCRIPTION_BYTES
    ):
        raise InvalidInput(
            f"a task description may have up to {MAX_DESCRIPTION_BYTES // 1024} KiB",
            code="description_too_large",
            limit_bytes=MAX_DESCRIPTION_BYTES,
        )
    bad = _DESCRIPTION_BAD.search(description)
    if bad is not None:
        raise InvalidInput(
            "a task description may hold tabs and line breaks, no other control characters "
            f"(found U+{ord(bad.group()):04X})",
            code="bad_description",
        )
    return description
