"""Which environment variables are secret, and how their values are hidden."""

from __future__ import annotations

import re

# KEY, TOKEN and AUTH count as whole words of the name (API_KEY, GITHUB_TOKEN), so settings
# such as MAX_THINKING_TOKENS or KEYBOARD_LAYOUT stay readable.
_SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|CREDENTIAL|(^|_)(API_?KEY|KEY|TOKEN|AUTH)(_|$)", re.IGNORECASE
)

REDACTED = "[REDACTED]"

# Shorter values would redact ordinary words and digits all over the log; they are refused
# as secrets instead (see docs/concepts/logs.md).
MIN_SECRET_LENGTH = 4


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def secret_values(env: dict[str, str], marked: list[str] | None = None) -> list[str]:
    """The values to redact from logs: secret-looking names plus those marked secret."""
    names = {name for name in env if is_secret_name(name)} | set(marked or [])
    values = {env[name] for name in names if name in env and len(env[name]) >= MIN_SECRET_LENGTH}
    # Longest first, so a secret that contains another is replaced whole.
    return sorted(values, key=len, reverse=True)


def mask_env(env: dict[str, str], marked: list[str] | None = None) -> dict[str, str]:
    """The env with secret values replaced, for showing to people."""
    hidden = set(marked or [])
    return {k: ("********" if is_secret_name(k) or k in hidden else v) for k, v in env.items()}
