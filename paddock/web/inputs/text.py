"""The whitespace rules every input model's text fields follow, said once.

The API's JSON bodies and the UI's forms build the same models (paddock/web/inputs), so a value
typed with spaces around it means the same thing through either door:

- `Trimmed`: one value (a title, a name, an id, a command, a prompt): spaces around it are
  dropped. A required one left blank stays "" for the domain rule to refuse with its own code
  (`bad_title`, `bad_name`, `bad_step_name`, `empty_prompt`, ...).
- `TrimmedOrNone`: an optional value whose default the server picks (a base branch, a commit
  message): blank, after trimming, is None, i.e. "the default".
- `TrimmedLines`: a list of values (globs): each trimmed, blank ones dropped.
- Free text kept exactly as given is plain `str` (a task's description, a prompt template):
  its own domain rules bound it (paddock/domain/tasks.py, workflow.py).
- `EnvVars`: environment variables, named as a shell names them (`NAME`, `_NAME2`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StringConstraints

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _drop_blank(values: list[str]) -> list[str]:
    return [value for value in values if value]


def is_env_name(name: str) -> bool:
    return ENV_NAME.fullmatch(name) is not None


Trimmed = Annotated[str, StringConstraints(strip_whitespace=True)]
TrimmedOrNone = Annotated[str | None, BeforeValidator(_blank_is_none)]
TrimmedLines = Annotated[list[Trimmed], AfterValidator(_drop_blank)]
EnvName = Annotated[str, StringConstraints(pattern=f"^{ENV_NAME.pattern}$")]
EnvVars = dict[EnvName, str]
