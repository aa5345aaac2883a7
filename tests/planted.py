"""Objects of any type the services hand out, built from their type hints, with secrets planted.

Every `env` holds a secret value under a secret-looking name and, where its object has a
`secret_env` list, one more under a name marked there; a text field whose name looks secret
(a token's hash) holds one too. The rest is plain filler. What is shown of them must hold none
of `SECRETS` (tests/web/test_public.py); what they are, does (`test_the_plants_hold_secrets`).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from paddock.domain.secrets import is_secret_name

NAMED_SECRET = "planted-named-secret-0f1e2d"  # under API_TOKEN
MARKED_SECRET = "planted-marked-secret-3c4b5a"  # under a name listed in secret_env
SECRETS = (NAMED_SECRET, MARKED_SECRET)
MARKED = "MARKED_VALUE"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _env(marked: bool) -> dict[str, str]:
    env = {"API_TOKEN": NAMED_SECRET, "PLAIN": "plain-is-shown"}
    return {**env, MARKED: MARKED_SECRET} if marked else env


def _field(owner: type, field: dataclasses.Field[Any], hint: Any) -> Any:
    names = {f.name for f in dataclasses.fields(owner)}
    if field.name == "env":
        return _env("secret_env" in names)
    if field.name == "secret_env":
        return [MARKED]
    if hint is str and (is_secret_name(field.name) or "token" in field.name):
        return NAMED_SECRET
    return planted(hint)


def planted(hint: Any) -> Any:
    """A value of type `hint`: a dataclass with every field filled, the first member of an
    enum, the non-None choice of an optional, one item of a collection."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        return planted(args[0])
    if origin in (typing.Union, types.UnionType):
        return planted(next(a for a in args if a is not type(None)))
    if origin is typing.Literal:
        return args[0]
    if origin is not None:
        return _collection(origin, args)
    if hint is Any or hint is object:
        return "any"
    if hint is type(None) or hint is None:
        return None
    if isinstance(hint, type):
        return _of_class(hint)
    raise TypeError(f"cannot plant a {hint!r}")


def _collection(origin: Any, args: tuple[Any, ...]) -> Any:
    if isinstance(origin, type) and issubclass(origin, Mapping):
        key, value = args or (str, str)
        return {planted(key): planted(value)}
    if origin is tuple:
        return tuple(planted(a) for a in args if a is not Ellipsis)
    if isinstance(origin, type) and issubclass(origin, Sequence | set | frozenset):
        item = planted(args[0]) if args else "item"
        return origin([item]) if origin in (set, frozenset) else [item]
    raise TypeError(f"cannot plant a {origin!r}")


def _of_class(cls: type) -> Any:
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)
        return cls(**{f.name: _field(cls, f, hints[f.name]) for f in fields if f.init})
    if issubclass(cls, enum.Enum):
        return next(iter(cls))
    if issubclass(cls, BaseModel):  # the builder's validated values (a brief, a question)
        fields = cls.model_fields.items()
        return cls.model_construct(**{name: planted(f.annotation) for name, f in fields})
    if issubclass(cls, bool):
        return True
    if issubclass(cls, int):
        return 1
    if issubclass(cls, float):
        return 1.5
    if issubclass(cls, str):
        return "plain"
    if issubclass(cls, bytes):
        return b"[]"
    if issubclass(cls, datetime):
        return WHEN
    if issubclass(cls, Path):
        return Path("/nowhere")
    if cls in (dict, list):
        return cls()
    raise TypeError(f"cannot plant a {cls!r}")


def leaked(text: str) -> list[str]:
    """The planted secret values `text` holds."""
    return [secret for secret in SECRETS if secret in text]
