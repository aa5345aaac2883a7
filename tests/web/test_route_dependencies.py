"""No route takes the whole engine: each asks for the services it uses (web/deps.py's aliases),
or for a small object grouping just those (the attempt workspace's `Workspace`, ...).

Annotations are evaluated here (no `from __future__ import annotations`): the check's own test
defines its endpoints locally."""

import dataclasses
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from paddock.services.engine import Engine
from paddock.web.app import create_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PADDOCK_DATA_DIR", str(tmp_path_factory.mktemp("routes") / "data"))
        yield create_app()


def calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """The endpoint and every dependency it asks for, however deep."""
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from calls(sub)


def mentions_engine(hint: Any, seen: set[int] | None = None) -> bool:
    """Whether a type is the Engine or holds it: in a union, an alias's arguments, a
    dataclass's fields (a grouping object)."""
    seen = set() if seen is None else seen
    if id(hint) in seen:
        return False
    seen.add(id(hint))
    if isinstance(hint, type) and issubclass(hint, Engine):
        return True
    if any(mentions_engine(arg, seen) for arg in typing.get_args(hint)):
        return True
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return any(mentions_engine(t, seen) for t in typing.get_type_hints(hint).values())
    return False


def engine_uses(call: Callable[..., Any]) -> list[str]:
    hints = typing.get_type_hints(call, include_extras=True)
    return [name for name, hint in hints.items() if mentions_engine(hint)]


def test_no_route_depends_on_the_engine(app: FastAPI) -> None:
    # Each route as the app serves it (an included router's routes with their prefix and its
    # own dependencies).
    routes = [r for r in iter_route_contexts(app.routes) if getattr(r, "dependant", None)]
    assert len(routes) > 50  # the API's and the pages' routes are all here
    assert {"/api/events", "/attempts/{attempt_id}", "/projects/{project_id}"} <= {
        route.path for route in routes
    }
    offenders = {
        f"{route.path} {sorted(route.methods or ())}: {call.__qualname__} ({', '.join(uses)})"
        for route in routes
        for call in calls(route.dependant)
        if (uses := engine_uses(call))
    }
    assert not offenders, "\n".join(sorted(offenders))


def test_the_check_sees_an_engine_however_it_is_asked_for() -> None:
    async def get_engine() -> Engine:
        raise NotImplementedError

    @dataclasses.dataclass
    class Parts:
        engine: Engine

    async def get_parts() -> Parts:
        raise NotImplementedError

    async def by_alias(engine: typing.Annotated[Engine, Depends(get_engine)]) -> None: ...
    async def by_parts(parts: typing.Annotated[Parts, Depends(get_parts)]) -> None: ...
    async def optional(engine: Engine | None = None) -> None: ...

    for endpoint in (by_alias, by_parts, optional):
        assert engine_uses(endpoint), endpoint
    assert engine_uses(get_engine) == ["return"]
    assert engine_uses(get_parts) == ["return"]
