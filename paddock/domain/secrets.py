"""Which environment variables are secret, and how their values are hidden."""

from __future__ import annotations

import re
from typing import Any

# KEY, TOKEN and AUTH count as whole words of the name (API_KEY, GITHUB_TOKEN), so settings
# such as MAX_THINKING_TOKENS or KEYBOARD_LAYOUT stay readable.
_SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|CREDENTIAL|(^|_)(API_?KEY|KEY|TOKEN|AUTH)(_|$)", re.IGNORECASE
)

REDACTED = "[REDACTED]"
MASK = "********"  # a secret value as a response or an event shows it

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
    """The env with secret values replaced, for showing to people."""
    hidden = set(marked or [])
    return {k: (MASK if is_secret_name(k) or k in hidden else v) for k, v in env.items()}


def public_json(data: Any) -> Any:
    """`data` (JSON-ready: dicts, lists, scalars) as it may leave the server.

    Whatever carries an environment has the same shape: an object with an `env` object and,
    where the user marked names secret, a sibling `secret_env` list (an attempt's, a
    follow-up's or a workflow step's agent; an agent profile's variant). In every such `env`
    the values of secret-looking names and of the marked ones are masked, however deep it
    sits. The API's answers and the event bus both pass through here, so no route or event
    type can forget it. `data` itself comes back when nothing needed masking.
    """
    if isinstance(data, list):
        items = [public_json(item) for item in data]
        return items if any(a is not b for a, b in zip(items, data, strict=True)) else data
    if not isinstance(data, dict):
        return data
    changed = False
    out: dict[Any, Any] = {}
    for key, value in data.items():
        shown = public_json(value)
        if key == "env" and isinstance(shown, dict):
            marked = data.get("secret_env")
            names = [m for m in marked if isinstance(m, str)] if isinstance(marked, list) else []
            masked = {
                k: (MASK if isinstance(k, str) and (is_secret_name(k) or k in names) else v)
                for k, v in shown.items()
            }
            if masked != shown:
                shown = masked
        changed = changed or shown is not value
        out[key] = shown
    return out if changed else data
