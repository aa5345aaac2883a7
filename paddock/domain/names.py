"""Identifiers, slugs and branch names."""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid

from paddock.domain.errors import InvalidInput

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")
# `git check-ref-format --branch` rules for the whole name; each component is checked apart.
_BAD_REF = re.compile(r"(\.\.)|([\x00-\x20~^:?*\[\\\x7f])|(@\{)|(\.$)")
MAX_BRANCH_NAME = 200


def new_id() -> str:
    """A random 32-hex id: unique across machines, so a shared PostgreSQL needs no coordination."""
    return uuid.uuid4().hex


def short_id(entity_id: str) -> str:
    return entity_id[:8]


def new_debug_id() -> str:
    return secrets.token_hex(6)


def slugify(text: str, max_length: int = 40) -> str:
    """ASCII, lower-case, dash-separated; never empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_STRIP.sub("-", ascii_text.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "task"


DEFAULT_BRANCH_TEMPLATE = "paddock/{id}-{title}"


def attempt_branch(
    attempt_id: str, task_title: str, template: str = DEFAULT_BRANCH_TEMPLATE
) -> str:
    """The branch of a new attempt: `template` with {id} (the attempt's short id) and {title}
    (the task's title, slugified)."""
    return template.format(id=short_id(attempt_id), title=slugify(task_title))


def check_branch_template(template: str) -> str:
    """The template, if it makes valid branch names that tell attempts apart (it holds {id})."""
    try:
        sample = attempt_branch("0" * 32, "A task", template)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"branch template {template!r}: only {{id}} and {{title}}") from exc
    if "{id}" not in template or not is_valid_branch_name(sample):
        raise ValueError(
            f"branch template {template!r} must hold {{id}} and make a valid branch name"
        )
    return template


def is_valid_branch_name(name: str) -> bool:
    """A short branch name as `git check-ref-format --branch` takes it, and unambiguous: not
    `HEAD` or `@`, not starting with `-` (an option) or `refs/` (a full ref name: `refs/heads/x`
    would make the branch `refs/heads/refs/heads/x`), no component starting with `.` or ending
    with `.lock`, no `..`, `@{`, control characters, spaces or any of ~^:?*[\\."""
    if not name or len(name) > MAX_BRANCH_NAME or name in ("HEAD", "@"):
        return False
    if name.startswith(("-", "refs/")) or _BAD_REF.search(name):
        return False
    return all(
        part and not part.startswith(".") and not part.endswith(".lock") for part in name.split("/")
    )


def check_branch_name(name: str) -> str:
    """`name` if it is a valid branch name, else InvalidInput `bad_branch_name`."""
    if not is_valid_branch_name(name):
        raise InvalidInput(
            f"{name[:MAX_BRANCH_NAME]!r} is not a valid branch name: a short name such as "
            "feature/x (not HEAD, not refs/..., no spaces, '..', '~^:?*[\\' or control "
            "characters)",
            code="bad_branch_name",
            branch=name[:MAX_BRANCH_NAME],
        )
    return name
