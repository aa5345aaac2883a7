"""Which environment variables are secret, and how their values are hidden."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# KEY, TOKEN and AUTH count as whole words of the name (API_KEY, GITHUB_TOKEN), so settings
# such as MAX_THINKING_TOKENS or KEYBOARD_LAYOUT stay readable.
_SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|CREDENTIAL|(^|_)(API_?KEY|KEY|TOKEN|AUTH)(_|$)", re.IGNORECASE
)

REDACTED = "[REDACTED]"
MASK = "********"  # a secret value as a response or an event shows it (domain/public/)

# Shorter values would redact ordinary words and digits all over the log; they are refused
# as secrets instead (see docs/concepts.md, "Logs").
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
    """The env with the values of secret-looking names and of the `marked` ones replaced by
    MASK: how every answer and event shows an env (the read models of domain/public/ apply
    it), and the UI's forms too."""
    hidden = set(marked or [])
    return {k: (MASK if is_secret_name(k) or k in hidden else v) for k, v in env.items()}


def keep_masked(env: Mapping[str, str], stored: Mapping[str, str]) -> dict[str, str]:
    """`env` as a client sends it back after reading it masked: a secret-looking name whose
    value is still MASK keeps its `stored` value (the client never saw the real one)."""
    return {
        name: stored[name] if value == MASK and is_secret_name(name) and name in stored else value
        for name, value in env.items()
    }


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with each secret value (each line of one, as logs are redacted line by line)
    replaced by REDACTED, the longest first."""
    parts = {
        part
        for secret in secrets
        for part in secret.replace("\r", "").split("\n")
        if len(part) >= MIN_SECRET_LENGTH
    }
    for part in sorted(parts, key=len, reverse=True):
        text = text.replace(part, REDACTED)
    return text
