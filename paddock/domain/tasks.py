"""What a task's title and description may hold.

A title is one line of text: it shows on a card, in a terminal (the CLI), in a branch name's
slug and a commit subject, so control characters (NUL, ESC, CR, LF, ...) and line separators
are refused, not stripped: what the user sent is either stored as it is or refused with a code.
A description is free text with a bound: tabs and line breaks are fine, other control
characters are refused (NUL cannot even be stored in PostgreSQL), and its size is capped.
The API, the UI's forms and the CLI all reach these rules through the task service.

A task an agent proposes (from inside an attempt) follows the same rules, and waits for the
user: while it is pending it gets no attempt and no move into another step (so no step's
automation runs on it), and one attempt may have at most `MAX_PENDING_PROPOSALS` pending.
"""

from __future__ import annotations

import re

from paddock.domain.errors import Conflict, InvalidInput

MAX_TITLE_CHARS = 500
MAX_DESCRIPTION_BYTES = 64 * 1024  # UTF-8
# Pending proposals of one attempt: an agent in a loop fills no board (dismiss or accept some).
MAX_PENDING_PROPOSALS = 20
# Control characters (Unicode's Cc: C0, DEL, C1) and unpaired surrogates (no UTF-8 for them);
# a title also refuses the line and paragraph separators.
# (As regex class contents, surrogates apart: the API's document says the same with them,
# inputs/tasks.py; UTF-8 has no surrogates, so a JSON body's text has none to refuse.)
TITLE_BAD_CHARS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
DESCRIPTION_BAD_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_SURROGATES = r"\ud800-\udfff"
_TITLE_BAD = re.compile(f"[{TITLE_BAD_CHARS}{_SURROGATES}]")
_DESCRIPTION_BAD = re.compile(f"[{DESCRIPTION_BAD_CHARS}{_SURROGATES}]")


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


def check_can_propose(pending: int) -> None:
    """Conflict `too_many_proposals` when the attempt already has `MAX_PENDING_PROPOSALS`
    proposals waiting for the user."""
    if pending >= MAX_PENDING_PROPOSALS:
        raise Conflict(
            f"this attempt already has {pending} proposed tasks waiting for the user "
            f"(at most {MAX_PENDING_PROPOSALS}): wait until some are accepted or dismissed",
            code="too_many_proposals",
            limit=MAX_PENDING_PROPOSALS,
        )


def check_not_proposed(proposed: bool, title: str, doing: str) -> None:
    """Conflict `task_proposed` for a pending proposal: `doing` (start an attempt, move it)
    waits until the user accepts it."""
    if proposed:
        raise Conflict(
            f"{title!r} is a proposed task: accept it before you {doing}", code="task_proposed"
        )


def check_pending(proposed: bool, title: str) -> None:
    """Conflict `not_proposed` unless the task is a pending proposal (accept, dismiss)."""
    if not proposed:
        raise Conflict(f"{title!r} is not a pending proposal", code="not_proposed")
