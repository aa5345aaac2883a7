"""Identifiers, slugs and branch names."""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")
# git check-ref-format rules that a slug alone does not already guarantee.
_BAD_REF = re.compile(r"(^[./-])|(\.\.)|([\x00-\x20~^:?*\[\\\x7f])|(@\{)|(\.lock$)|(/$)|(\.$)|(//)")


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
    return bool(name) and len(name) <= 200 and not _BAD_REF.search(name)
