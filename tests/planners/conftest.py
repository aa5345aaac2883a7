"""The planners' tests' fixtures: templates (what Paddock ships, in miniature) and `api`, each
SDK planner against the tests' fake model (test_sdk_planners.py's APIS)."""

from __future__ import annotations

import pytest

from paddock.domain.builder.templates import AppTemplate
from paddock.domain.entities import Scripts
from tests.planners.test_sdk_planners import APIS, Api


def template(name: str, order: int, *, needs_network: bool) -> AppTemplate:
    return AppTemplate(
        name=name,
        label=name.replace("-", " ").capitalize(),
        summary=f"A {name} app.",
        stack=("Python",) if needs_network else ("HTML", "CSS"),
        pros=("Quick to change",),
        cons=("Needs a server",) if needs_network else ("Nothing is saved",),
        needs_network=needs_network,
        scripts=Scripts(dev="python3 -m http.server"),
        order=order,
    )


@pytest.fixture
def templates() -> list[AppTemplate]:
    # The one that needs a network comes first: offline, the planner must pass over it.
    return [
        template("fullstack", 1, needs_network=True),
        template("static-site", 2, needs_network=False),
        template("api-only", 3, needs_network=True),
    ]


@pytest.fixture(params=APIS, ids=[api.name for api in APIS])
def api(request: pytest.FixtureRequest) -> Api:
    param: Api = request.param
    return param
