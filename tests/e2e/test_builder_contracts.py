"""Response contracts: a list is `[]`, never `null`. The OpenAPI document declares no list
that may be null in any response; and every builder route a fresh, empty app can answer does
answer with its lists empty (each value checked against its schema), the others with the
shared error model."""

from __future__ import annotations

from typing import Any

from tests.e2e.server import ServerProcess

IDEA = "A booking page for my yoga studio"
BUILDER_TAGS = {"apps", "decisions", "deploy", "chat", "features"}


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


def nullable_lists(spec: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    """Where `schema` (walked through its properties and items) allows a list or null."""
    found: list[str] = []
    seen: set[str] = set()

    def walk(node: dict[str, Any], path: str) -> None:
        if "$ref" in node:
            if node["$ref"] in seen:
                return
            seen.add(node["$ref"])
        node = resolve(spec, node)
        options = node.get("anyOf", [])
        kinds = {resolve(spec, o).get("type") for o in options}
        if {"array", "null"} <= kinds:
            found.append(path)
        for option in options:
            walk(option, path)
        for name, prop in node.get("properties", {}).items():
            walk(prop, f"{path}.{name}")
        if "items" in node:
            walk(node["items"], f"{path}[]")

    walk(schema, where)
    return found


def test_no_response_declares_a_list_that_may_be_null(server: ServerProcess) -> None:
    spec = server.api("GET", "/api/openapi.json")
    problems: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                for content in response.get("content", {}).values():
                    if "schema" in content:
                        where = f"{method.upper()} {path} {status}"
                        problems += nullable_lists(spec, content["schema"], where)
    assert problems == []


def conforms(spec: dict[str, Any], schema: dict[str, Any], value: Any, path: str) -> list[str]:
    """Where `value` has null for a list its schema declares (or is not a list at all)."""
    schema = resolve(spec, schema)
    options = [resolve(spec, o) for o in schema.get("anyOf", [])]
    if options:
        fits = [o for o in options if (value is None) == (o.get("type") == "null")]
        return conforms(spec, fits[0], value, path) if fits else [f"{path}: {value!r}"]
    if schema.get("type") == "array":
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [
            e
            for i, v in enumerate(value)
            for e in conforms(spec, schema["items"], v, f"{path}[{i}]")
        ]
    if schema.get("type") == "object" and isinstance(value, dict):
        return [
            e
            for name, prop in schema.get("properties", {}).items()
            if name in value
            for e in conforms(spec, prop, value[name], f"{path}.{name}")
        ]
    return []


def test_every_builder_route_answers_a_fresh_app_with_empty_lists(server: ServerProcess) -> None:
    spec = server.api("GET", "/api/openapi.json")
    app = server.api("POST", "/api/apps", json={"idea": IDEA})
    answered: dict[str, int] = {}
    problems: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not BUILDER_TAGS & set(operation.get("tags", [])):
                continue
            # Reads, and the chat's snapshot (a read that remembers what the panel saw).
            if method != "get" and operation["operationId"] != "open_chat":
                continue
            if "{" in path.replace("{app_id}", "") or "stream" in operation["operationId"]:
                continue  # another resource's id, or a stream
            url = path.replace("{app_id}", app["id"])
            response = server.client.request(method.upper(), url, headers=server.auth)
            answered[operation["operationId"]] = response.status_code
            body = response.json()
            if response.status_code >= 400:
                assert set(body) >= {"code", "message"}, (url, body)
                continue
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            problems += conforms(spec, schema, body, f"{method.upper()} {path}")
    assert problems == []
    # What a fresh app must answer (the rest refuse plainly: no brief, no version yet).
    for operation_id in (
        "get_app", "list_builds", "list_versions", "get_timeline", "get_pending_gate",
        "list_gates", "list_changes", "get_iterations", "open_chat", "list_features",
        "list_app_templates",
    ):  # fmt: skip
        assert answered.get(operation_id) == 200, (operation_id, answered)
    assert answered["get_deploy_readiness"] == 409
