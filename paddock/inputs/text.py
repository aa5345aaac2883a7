"""The whitespace rules every input model's text fields follow, said once.

The API's JSON bodies and the UI's forms build the same models (paddock/inputs), so a value
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

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic.config import JsonDict

from paddock.domain.names import MAX_BRANCH_NAME

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _blank_is_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _drop_blank(values: list[str]) -> list[str]:
    return [value for value in values if value]


def is_env_name(name: str) -> bool:
    return ENV_NAME.fullmatch(name) is not None


def refused_blank(max_length: int | None = None) -> JsonDict:
    """`json_schema_extra` of a text whose domain rule refuses it blank (or longer than
    `max_length`) with its own code: the OpenAPI document says what that rule accepts, the
    model still lets the value through to the rule (so both doors get the same code)."""
    rule: JsonDict = {"pattern": r"\S"}
    if max_length is not None:
        rule["maxLength"] = max_length
    return rule


# domain/names.py's is_valid_branch_name, as the document can say it (spaces around the name
# are dropped first): the services refuse others (`bad_branch_name`, `invalid_branch`).
BRANCH_NAME: JsonDict = {
    "maxLength": MAX_BRANCH_NAME,
    "pattern": r"^\s*[^\x00-\x20~^:?*\[\\\x7f]+\s*$",
    "not": {
        "anyOf": [
            {"pattern": r"^\s*(-|refs/|(HEAD|@)\s*$)"},
            {"pattern": r"\.\.|@\{|\.\s*$|(^\s*|/)\.|\.lock(/|\s*$)|//|/\s*$|^\s*/"},
        ]
    },
}
# The same, or blank for "the default" (TrimmedOrNone). In an allOf: the field's own schema
# has an anyOf (string or null) that this must not replace.
BRANCH_NAME_OR_BLANK: JsonDict = {"allOf": [{"anyOf": [{"pattern": r"^\s*$"}, BRANCH_NAME]}]}


Trimmed = Annotated[str, StringConstraints(strip_whitespace=True)]
TrimmedOrNone = Annotated[str | None, BeforeValidator(_blank_is_none)]
TrimmedLines = Annotated[list[Trimmed], AfterValidator(_drop_blank)]
EnvName = Annotated[str, StringConstraints(pattern=f"^{ENV_NAME.pattern}$")]
# No other names: the document says so too (pydantic's own schema lets other keys through).
EnvVars = Annotated[dict[EnvName, str], Field(json_schema_extra={"additionalProperties": False})]
