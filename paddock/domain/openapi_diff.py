"""What changed between two OpenAPI specs, by endpoint (and by schema).

The diff compares each endpoint's parts (parameters, request body, responses, security) with
local `$ref`s resolved, so an edit inside a shared schema shows on every endpoint that uses it.
Parts are compared by fingerprint (domain/openapi_fingerprints.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from paddock.domain.openapi_fingerprints import Fingerprints, json_text
from paddock.domain.openapi_spec import key_text

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
PARAMETER_PLACES = ("path", "query", "header", "cookie", "formData")
_DESCRIBED = (
    ("summary", "summary"),
    ("description", "description"),
    ("operationId", "operation id"),
)
_COMPARED_APART = frozenset(
    [field for field, _ in _DESCRIBED]
    + ["tags", "deprecated", "parameters", "requestBody", "responses", "security"]
)
_TEMPLATE_PARAMETER = re.compile(r"\{([^{}/]*)\}")


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    summary: str


@dataclass(frozen=True, slots=True)
class EndpointChange:
    method: str
    path: str
    summary: str
    changes: list[str]


@dataclass(frozen=True, slots=True)
class SpecDiff:
    added: list[Endpoint]
    removed: list[Endpoint]
    changed: list[EndpointChange]
    schemas_added: list[str]
    schemas_removed: list[str]
    schemas_changed: list[str]
    base_version: str
    head_version: str

    @property
    def unchanged(self) -> bool:
        lists = (self.added, self.removed, self.changed, self.schemas_added, self.schemas_removed)
        return (
            not any(lists) and not self.schemas_changed and self.base_version == self.head_version
        )


# ---------------------------------------------------------------- operations


@dataclass(frozen=True, slots=True)
class _Operation:
    method: str
    path: str
    names: tuple[str, ...]  # the path template's parameter names, in order
    fields: dict[str, Any]
    parameters: dict[tuple[str, str], dict[str, Any]]  # (in, name or "#position") -> parameter
    body: Any  # requestBody, or Swagger 2's `in: body` parameter
    security: Any

    @property
    def summary(self) -> str:
        return _text(self.fields.get("summary"))


def _operations(spec: dict[str, Any], prints: Fingerprints) -> dict[tuple[str, str], _Operation]:
    """Operations by (path with its parameters unnamed, METHOD)."""
    found: dict[tuple[str, str], _Operation] = {}
    for path, raw_item in sorted(_mapping(spec.get("paths")).items()):
        item = _mapping(prints.target(raw_item))
        names = tuple(_TEMPLATE_PARAMETER.findall(path))
        shared = _parameters_by_place(item.get("parameters"), prints)
        for method in HTTP_METHODS:
            fields = item.get(method)
            if not isinstance(fields, dict):
                continue
            merged = shared | _parameters_by_place(fields.get("parameters"), prints)
            body = _swagger2_body(merged)
            body = fields.get("requestBody") if body is None else body
            security = fields["security"] if "security" in fields else spec.get("security")
            key = (_TEMPLATE_PARAMETER.sub("{}", path), method.upper())
            if key in found:  # two templates alike in one spec: keep both, matched as written
                key = (path, method.upper())
            parameters = {_parameter_key(place, names): value for place, value in merged.items()}
            found[key] = _Operation(method.upper(), path, names, fields, parameters, body, security)
    return found


def _parameters_by_place(raw: Any, prints: Fingerprints) -> dict[tuple[str, str], Any]:
    parameters: dict[tuple[str, str], Any] = {}
    for entry in raw if isinstance(raw, list) else []:
        parameter = prints.target(entry)
        if isinstance(parameter, dict):
            place = (_text(parameter.get("in")), _text(parameter.get("name")))
            parameters[place] = parameter
    return parameters


def _swagger2_body(parameters: dict[tuple[str, str], Any]) -> dict[str, Any] | None:
    """Takes Swagger 2's `in: body` parameter out of `parameters`: it is the request body."""
    places = [place for place in parameters if place[0] == "body"]
    if not places:
        return None
    return {k: v for k, v in parameters.pop(places[0]).items() if k not in ("name", "in")}


def _parameter_key(place: tuple[str, str], names: tuple[str, ...]) -> tuple[str, str]:
    """Path parameters are matched by their position in the template, the others by name."""
    where, name = place
    if where == "path" and name in names:
        return (where, f"#{names.index(name)}")
    return place


# ---------------------------------------------------------------- the diff


def diff_specs(base: dict[str, Any], head: dict[str, Any]) -> SpecDiff:
    """What changed from the base branch's spec to an attempt's spec."""
    base_prints, head_prints = Fingerprints(base), Fingerprints(head)
    before, after = _operations(base, base_prints), _operations(head, head_prints)
    changed: list[EndpointChange] = []
    for key in _endpoint_order(before.keys() & after.keys(), after):
        old, new = before[key], after[key]
        lines = _changes(old, new, base_prints, head_prints)
        if lines:
            changed.append(EndpointChange(new.method, new.path, new.summary, lines))
    old_schemas, new_schemas = _schemas(base), _schemas(head)
    raw_base, raw_head = Fingerprints(base, resolve=False), Fingerprints(head, resolve=False)
    return SpecDiff(
        added=[_endpoint(after[key]) for key in _endpoint_order(after.keys() - before, after)],
        removed=[_endpoint(before[key]) for key in _endpoint_order(before.keys() - after, before)],
        changed=changed,
        schemas_added=sorted(new_schemas.keys() - old_schemas.keys()),
        schemas_removed=sorted(old_schemas.keys() - new_schemas.keys()),
        schemas_changed=[
            name
            for name in sorted(old_schemas.keys() & new_schemas.keys())
            if raw_base.of(old_schemas[name]) != raw_head.of(new_schemas[name])
        ],
        base_version=_version(base),
        head_version=_version(head),
    )


def _changes(
    old: _Operation, new: _Operation, before: Fingerprints, after: Fingerprints
) -> list[str]:
    lines = [
        f"path parameter `{was}` renamed to `{now}`"
        for was, now in zip(old.names, new.names, strict=False)
        if was != now
    ]
    for field, label in _DESCRIBED:
        if old.fields.get(field) != new.fields.get(field):
            lines.append(f"{label} changed")
    if _sorted_texts(old.fields.get("tags")) != _sorted_texts(new.fields.get("tags")):
        lines.append("tags changed")
    if bool(old.fields.get("deprecated")) != bool(new.fields.get("deprecated")):
        lines.append("deprecated" if new.fields.get("deprecated") else "no longer deprecated")
    lines.extend(_parameter_changes(old, new, before, after))
    lines.extend(_part_change("request body", old.body, new.body, before, after))
    old_responses = {key_text(k): v for k, v in _mapping(old.fields.get("responses")).items()}
    new_responses = {key_text(k): v for k, v in _mapping(new.fields.get("responses")).items()}
    for code in sorted(old_responses.keys() | new_responses.keys()):
        old_response, new_response = old_responses.get(code), new_responses.get(code)
        lines.extend(_part_change(f"response {code}", old_response, new_response, before, after))
    if _security_form(old.security) != _security_form(new.security):
        lines.append("security changed")
    for field in sorted((old.fields.keys() | new.fields.keys()) - _COMPARED_APART):
        if before.of(old.fields.get(field)) != after.of(new.fields.get(field)):
            lines.append(f"`{field}` changed")
    return lines


def _parameter_changes(
    old: _Operation, new: _Operation, before: Fingerprints, after: Fingerprints
) -> Iterator[str]:
    for key in sorted(old.parameters.keys() | new.parameters.keys(), key=_parameter_order):
        was, now = old.parameters.get(key), new.parameters.get(key)
        label = f"parameter `{_text((now or was or {}).get('name'))}` ({key[0]})"
        if was is None or now is None:
            yield f"{label} {'added' if was is None else 'removed'}"
            continue
        if _required(was) != _required(now):
            yield f"{label} is {'now' if _required(now) else 'no longer'} required"
        if before.of(_definition(was)) != after.of(_definition(now)):
            yield f"{label} changed"


def _part_change(
    label: str, was: Any, now: Any, before: Fingerprints, after: Fingerprints
) -> Iterator[str]:
    if was is None and now is None:
        return
    if was is None or now is None:
        yield f"{label} {'added' if was is None else 'removed'}"
    elif before.of(was) != after.of(now):
        yield f"{label} changed"


def _required(parameter: dict[str, Any]) -> bool:
    return bool(parameter.get("required", parameter.get("in") == "path"))


def _definition(parameter: dict[str, Any]) -> dict[str, Any]:
    """A parameter without what is compared apart: its name (for path ones) and `required`."""
    return {key: value for key, value in parameter.items() if key not in ("name", "required")}


def _security_form(security: Any) -> list[str]:
    """Alternatives in any order, each a map of scheme -> scopes in any order; none == []."""
    forms = []
    for requirement in security if isinstance(security, list) else []:
        scopes = {key_text(k): _sorted_texts(v) for k, v in _mapping(requirement).items()}
        forms.append(json_text(scopes))
    return sorted(forms)


def _endpoint_order(
    keys: set[tuple[str, str]], operations: dict[tuple[str, str], _Operation]
) -> list[tuple[str, str]]:
    def order(key: tuple[str, str]) -> tuple[str, int]:
        operation = operations[key]
        return operation.path, HTTP_METHODS.index(operation.method.lower())

    return sorted(keys, key=order)


def _parameter_order(key: tuple[str, str]) -> tuple[int, str]:
    place, name = key
    rank = PARAMETER_PLACES.index(place) if place in PARAMETER_PLACES else len(PARAMETER_PLACES)
    return rank, name


def _endpoint(operation: _Operation) -> Endpoint:
    return Endpoint(operation.method, operation.path, operation.summary)


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    """Named schemas: Swagger 2's `definitions` and OpenAPI 3's `components.schemas`."""
    components = _mapping(_mapping(spec.get("components")).get("schemas"))
    named = _mapping(spec.get("definitions")) | components
    return {key_text(name): schema for name, schema in named.items()}


def _version(spec: dict[str, Any]) -> str:
    return _text(_mapping(spec.get("info")).get("version"))


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _sorted_texts(value: Any) -> list[str]:
    return sorted(_text(item) for item in value) if isinstance(value, list) else []
