"""Reading the UI's HTML forms: text areas of NAME=value lines, lists of lines."""

from __future__ import annotations

from paddock.domain.errors import InvalidInput


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def env_lines(text: str, field: str) -> dict[str, str]:
    """NAME=value per line (blank lines and # comments skipped); a clear error otherwise."""
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.replace("_", "a").isalnum() or name[0].isdigit():
            raise InvalidInput(
                f"{field}, line {number}: expected NAME=value, got {line[:60]!r}",
                code="bad_env_line",
            )
        env[name] = value
    return env
