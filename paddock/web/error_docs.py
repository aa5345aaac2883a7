"""The error answers the OpenAPI document declares: one model, and the statuses each operation
really answers with (docs/reliability.md; tests/web/test_openapi_conformance.py holds it true).

Two sources, nothing written twice:

- what every operation, or every operation of a kind, answers, added to the generated document
  by `complete_error_responses`: 401 and 403 and 421 (the guards in front of the app: access.py,
  guard.py), 404 for an operation with a path id, 422 for one that takes any input;
- what a route's services raise besides, declared next to the route with `errors(409, ...)`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Why an operation answers each status: the document's description of the response.
DESCRIPTIONS: dict[int, str] = {
    400: "The body is not JSON; or refused (`paddock_error`, `spawn_failed`, ...)",
    401: "Not signed in: no token or session (`unauthorized`), or a wrong token (`bad_token`)",
    403: (
        "Refused: a request from another site's page (`cross_origin_request`), from inside a "
        "sandbox (`sandboxed_client`), or for a feature that is off (`feature_disabled`)"
    ),
    404: "What the path names does not exist (`project_not_found`, `attempt_not_found`, ...)",
    409: "Not possible in the current state (`attempt_busy`, `nothing_to_merge`, ...)",
    421: "The `Host` is not this server's (`host_not_allowed`)",
    422: (
        "Invalid input: the request does not match the schema (`validation_error`, with "
        "`details`) or a value the service refuses (`bad_title`, `unknown_agent`, ...)"
    ),
    500: "A run failed (`git_failed` with the command and its stderr, `run_failed`)",
    502: "A service Paddock calls failed (`pull_request_failed`, `planner_failed`)",
    503: "Something Paddock needs is missing or down (`git_missing`, `agent_not_installed`, ...)",
}

# Answered by the guards in front of every API operation (docs/api.md, docs/security.md).
EVERY_OPERATION = (401, 403, 421)

SECURITY_SCHEME = {"bearer": {"type": "http", "scheme": "bearer"}}


class ErrorOut(BaseModel):
    """Every error: a stable `code`, a `message` for people; more fields for some codes."""

    model_config = ConfigDict(extra="allow", title="Error")

    code: str = Field(description="Stable; docs/api.md lists every one by HTTP status")
    message: str
    details: Any = Field(
        None,
        description="Validation errors: `[{location, message}]`; some codes say more here",
    )
    debug_id: str | None = Field(
        None, description="Failures inside a run: the same id is on the server log's line"
    )


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router whose services answer these statuses besides the
    ones every operation of its kind has (see the module's docstring); the body's schema is
    put in by `complete_error_responses`."""
    return {status: {"description": DESCRIPTIONS[status]} for status in statuses}


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _takes_input(operation: dict[str, Any]) -> bool:
    return bool(operation.get("parameters") or operation.get("requestBody"))


def _has_path_id(operation: dict[str, Any]) -> bool:
    return any(p.get("in") == "path" for p in operation.get("parameters", []))


def _statuses_of(operation: dict[str, Any]) -> set[int]:
    """What every operation of this one's kind answers besides its own declarations."""
    statuses = set(EVERY_OPERATION)
    if _has_path_id(operation):
        statuses.add(404)
    if _takes_input(operation):
        statuses.add(422)
    if operation.get("requestBody"):
        statuses.add(400)  # a body that is not JSON (FastAPI's own answer)
    return statuses


def _complete(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in _statuses_of(operation):
        responses.setdefault(str(status), {})
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            response["description"] = DESCRIPTIONS.get(int(code), "Error")
            response["content"] = _error_content()
    operation["responses"] = dict(sorted(responses.items()))


def complete_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers every operation of a kind has; FastAPI's own 422 (a `detail`
    list) becomes the error model Paddock really answers with. Changes `document` in place
    and may run again on it."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components["securitySchemes"] = SECURITY_SCHEME
    document["security"] = [{"bearer": []}]
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            _complete(operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document
