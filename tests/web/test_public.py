"""No secret value in any /api answer or event: each shows a public read model (domain/public/).

Every route of the API is called, every method, with the services replaced by stand-ins that
answer what the real ones would (their annotated return type: an attempt, a board, a list of
steps ...), built with secrets planted in every `env` (tests/planted.py), through the whole
app. A route that handed FastAPI an entity, or a model that forgot the mask, shows a planted
value and fails the sweep: masking is the read models' alone. Every event type is made from a
planted payload the same way. The routes' declared answers are checked too: read models, never
entities. tests/security/test_secret_sweep.py does the same through the real server, with real
data.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter
from starlette.responses import FileResponse, StreamingResponse

from paddock.config import Settings
from paddock.domain.entities import Attempt, FollowUp, Process, WorkflowStep
from paddock.domain.events import CATALOGUE, EventType, StepsUpdated, encode
from paddock.domain.public import ProcessPublic, PublicModel
from paddock.web.app import create_app
from tests.planted import MARKED_SECRET, NAMED_SECRET, leaked, planted

# Routes whose body is no JSON document of Paddock's making: server-sent events (their data is
# swept below, as events, and through the real server by the security sweep) and files.
STREAMS = {
    "stream_events",
    "stream_timeline",
    "stream_attempt_diff_changes",
    "stream_process_logs",
    "stream_process_entries",
    "download_process_logs",
    "view_process_artifact",
    "download_artifact",
    "download_version",
}
# Routes that answer a credential to its owner, and its field: left out of the sweep (a
# runner's Redis password, made for the runner that presented its own token).
CREDENTIALS = {"open_runner_session": "redis_password"}
TOKEN = "public-sweep-token-" + "t" * 24
# What a stand-in answers where the annotated type says too little.
ANSWERS: dict[tuple[str, str], Any] = {
    ("PreviewService", "open_link"): {"url": "http://p.localhost/?t=x", "key": "k"},
}


class StandIn:
    """A service whose every method answers a planted value of the real one's return type."""

    def __init__(self, service: type) -> None:
        self.service = service

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.service, name)
        answer = ANSWERS.get((self.service.__name__, name), ...)
        if answer is ...:
            answer = planted(_return_type(method))
        if inspect.iscoroutinefunction(method):

            async def call_async(*_args: object, **_kwargs: object) -> Any:
                return answer

            return call_async
        return lambda *_args, **_kwargs: answer


class StandInEngine:
    """The engine the routes' dependencies read their services from: stand-ins, each of the
    class the real engine holds under that name."""

    def __init__(self, real: object) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        if name == "settings":  # not a service: the routes read it (e.g. feature flags)
            return self.real.settings
        return StandIn(type(getattr(self.real, name)))


def _return_type(method: Callable[..., Any]) -> Any:
    hint = method.__annotations__["return"]
    return eval(hint, method.__globals__) if isinstance(hint, str) else hint


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every route under /api, as the app serves it (its routers included)."""
    return [
        r
        for r in iter_route_contexts(app.routes)
        if isinstance(r.original_route, APIRoute) and str(r.path).startswith("/api/")
    ]


def is_stream(route: RouteContext) -> bool:
    response = route.response_class
    return isinstance(response, type) and issubclass(response, StreamingResponse | FileResponse)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The whole app, its middleware included, reading stand-in services (never started)."""
    data_dir = tmp_path_factory.mktemp("public") / "data"
    app = create_app(Settings(data_dir=data_dir, token=TOKEN))
    app.state.engine = StandInEngine(app.state.engine)
    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return TestClient(app, base_url="http://127.0.0.1:8765", headers=headers)


def minimal(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The smallest JSON a JSON schema accepts: required properties only."""
    if "$ref" in schema:
        return minimal(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return minimal(next(s for s in schema["anyOf"] if s.get("type") != "null"), defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = str(schema.get("type"))
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: minimal(properties[name], defs) for name in schema.get("required", [])}
    if kind == "array":  # as many items as it needs, each the smallest
        return [minimal(schema.get("items", {}), defs)] * schema.get("minItems", 0)
    scalars = {"string": "x", "integer": schema.get("minimum", 0), "number": 1, "boolean": False}
    return scalars.get(kind, [])


def request_for(route: RouteContext) -> dict[str, Any]:
    """The path with ids filled in, required query parameters, and a body when one is needed."""
    path = re.sub(r"\{\w+(:\w+)?\}", "x", str(route.path))
    params = {p.name: "x" for p in route.dependant.query_params if p.field_info.is_required()}
    (method,) = route.methods or {"GET"}
    request: dict[str, Any] = {"method": method, "url": path, "params": params}
    for body in route.dependant.body_params:
        if body.field_info.is_required():
            schema = TypeAdapter(body.field_info.annotation).json_schema()
            request["json"] = minimal(schema, schema.get("$defs", {}))
    return request


def test_no_route_answer_shows_a_secret(client: TestClient, app: FastAPI) -> None:
    routes = api_routes(app)
    assert {r.operation_id for r in routes if is_stream(r)} == STREAMS
    swept = [r for r in routes if not is_stream(r)]
    found: list[str] = []
    statuses: dict[str, int] = {}
    for route in swept:
        request = request_for(route)
        response = client.request(**request)
        statuses[str(route.operation_id or route.path)] = response.status_code
        text = response.text
        if route.operation_id in CREDENTIALS:  # a credential answered to its owner, by design
            body = response.json()
            assert body.pop(CREDENTIALS[route.operation_id]), route.path
            text = json.dumps(body)
        found += [f"{request['method']} {route.path}: {s}" for s in leaked(text)]
        # The docs page is HTML, the spec route an agent's own document: the rest is JSON.
        if route.include_in_schema and route.operation_id != "get_openapi" and response.content:
            assert response.headers["content-type"] == "application/json", route.path
    assert not found, "secret values in answers:\n" + "\n".join(found)
    # Each route answered as it does for real (a refusal would sweep an error, not the model).
    failed = {op: status for op, status in statuses.items() if status >= 300}
    assert not failed, failed
    assert len(swept) >= 70  # the walk found the routes


def test_the_plants_hold_secrets_an_entity_would_show() -> None:
    """The sweep can fail: an entity serialised whole, as FastAPI would, shows the plants."""
    for entity in (Attempt, FollowUp, WorkflowStep):
        shown = json.dumps(jsonable_encoder(planted(entity)))
        assert leaked(shown) == [NAMED_SECRET, MARKED_SECRET], entity
    assert leaked(json.dumps(jsonable_encoder(planted(StepsUpdated))))


@pytest.mark.parametrize("type_", list(EventType), ids=str)
def test_no_event_data_shows_a_secret(type_: EventType) -> None:
    payload = planted(type_.payload)
    checked, data = encode(type_, payload)
    assert checked is type_
    assert not leaked(json.dumps(data)), data
    # The data is the catalogue's read model of the payload, whole.
    assert data == CATALOGUE[type_].data.read(payload).model_dump(mode="json")


def test_events_about_an_agent_had_secrets_to_hide() -> None:
    for type_ in (EventType.attempt_created, EventType.follow_up_updated, EventType.steps_updated):
        assert leaked(repr(planted(type_.payload))) == [NAMED_SECRET, MARKED_SECRET], type_
        assert "plain-is-shown" in json.dumps(encode(type_, planted(type_.payload))[1])


def classes_in(hint: Any, seen: set[type] | None = None) -> set[type]:
    """Every class a response model is made of: its own, its fields', their arguments'."""
    seen = set() if seen is None else seen
    for arg in typing.get_args(hint):
        classes_in(arg, seen)
    if not isinstance(hint, type) or hint in seen:
        return seen
    seen.add(hint)
    if issubclass(hint, BaseModel):
        for field in hint.model_fields.values():
            classes_in(field.annotation, seen)
    elif dataclasses.is_dataclass(hint):
        for field_type in typing.get_type_hints(hint).values():
            classes_in(field_type, seen)
    return seen


def entities_in(hint: Any) -> list[str]:
    """The classes in `hint` that are no read model: dataclasses (the domain's and the
    services' types), and models defined elsewhere than domain/public or the web layer."""
    ours = ("paddock.domain.public.", "paddock.web.")
    return [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in classes_in(hint)
        if dataclasses.is_dataclass(cls)
        or (issubclass(cls, BaseModel) and not cls.__module__.startswith(ours))
    ]


def test_no_route_answers_with_an_entity(app: FastAPI) -> None:
    found: dict[str, list[str]] = {}
    for route in api_routes(app):
        declared = typing.get_type_hints(route.endpoint).get("return")
        for hint in (route.response_model, declared):
            if wrong := entities_in(hint):
                found[str(route.path)] = wrong
        # A route of the API answering JSON declares its model (openapi.json shows it), or
        # answers bytes it does not make (an agent's spec) or nothing.
        if route.include_in_schema and route.response_model is None and not is_stream(route):
            assert route.operation_id == "get_openapi" or route.status_code == 204, route.path
    assert not found, found
    # The check sees what it looks for.
    assert "paddock.domain.entities.Attempt" in entities_in(list[Attempt])
    assert "paddock.domain.entities.Process" in entities_in(dict[str, Process | None])


def test_every_read_model_is_public() -> None:
    for kind in CATALOGUE.values():
        assert issubclass(kind.data, PublicModel)
        assert kind.data.__module__.startswith("paddock.domain.public.")
        assert not entities_in(kind.data), kind


def test_a_process_shows_no_pid(app: FastAPI) -> None:
    assert not {"pid", "pid_start_time"} & set(ProcessPublic.model_fields)
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    assert "pid" not in schemas["ProcessPublic"]["properties"]
    # openapi.json describes answers by their read models.
    answer = spec["paths"]["/api/processes/{process_id}"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ProcessPublic")
    assert not any("pid_start_time" in json.dumps(s) for s in schemas.values())


def test_the_helpers_fill_what_they_are_given(tmp_path: Path) -> None:
    defs = {"In": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}
    schema = {
        "type": "object",
        "properties": {
            "kind": {"enum": ["unit", "e2e"]},
            "inner": {"$ref": "#/$defs/In"},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 3}]},
            "left_out": {"type": "string"},
        },
        "required": ["kind", "inner", "maybe"],
    }
    assert minimal(schema, defs) == {"kind": "unit", "inner": {"a": "x"}, "maybe": 3}
