"""The base of every public read model: what a client may see of an entity, built from it.

Routes answer with these, and events carry their JSON form (domain/events.py), so what is
exposed, and how a secret is masked, is decided once per resource, in its model, whoever shows
it. A model is built from its entity's attributes (`of`); nothing else of the entity leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Self, cast

from pydantic import BaseModel, ConfigDict, TypeAdapter


class PublicModel(BaseModel):
    """A read model: its fields are what a client sees; built with `of` from an entity."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def read(cls, source: object) -> Self:
        """The model of `source`: any object with the model's fields as attributes (an
        entity, a service's result). Each model's `of` says which entity it takes."""
        return cls.model_validate(source, from_attributes=True)

    @classmethod
    def read_many(cls, sources: Iterable[object]) -> list[Self]:
        """The models of many sources in one validation: a page of thousands of log lines
        costs a third of building them one by one."""
        return cast(list[Self], _many(cls).validate_python(list(sources), from_attributes=True))


@cache
def _many(model: type[PublicModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]
