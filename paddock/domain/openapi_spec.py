"""OpenAPI specs read safely: JSON or YAML (OpenAPI 3.x or Swagger 2.0) into plain JSON values.

A spec is hostile input (an agent's script wrote it, or its preview served it), so its limits
(domain/reports.py) are checked before the document is built, not after: its size first; then,
for JSON, how many values it holds and how deep they nest, counted on its bytes; for YAML, the
same counted on the parser's event stream; and YAML's anchors and aliases are kept from
expanding a small document into a huge one."""

from __future__ import annotations

import datetime
import json
import re
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from paddock.domain.reports import (
    DEFAULT_LIMITS,
    MAX_SPEC_DEPTH,
    ReportLimits,
    ReportTooLarge,
    file_too_large,
    too_deep,
    too_many_nodes,
)

if TYPE_CHECKING:
    from yaml import SafeLoader

# YAML anchors and aliases let a small document stand for a huge one ("billion laughs"). Expanded,
# a document may weigh MAX_EXPANSION times its input (a node counts NODE_COST, a string its length
# more), or MIN_EXPANDED_BUDGET if that is more; beyond that it is refused.
MAX_EXPANSION = 8
MIN_EXPANDED_BUDGET = 1_000_000
NODE_COST = 8
_KINDS = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}
_NESTING = "its maps and lists"

_LOOKS_LIKE_JSON = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*[\[{]")
# A JSON string, escapes included; possessive, so that no input makes the match backtrack.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_DEPTH_STEP = [0] * 256
_DEPTH_STEP[ord("[")] = _DEPTH_STEP[ord("{")] = 1
_DEPTH_STEP[ord("]")] = _DEPTH_STEP[ord("}")] = -1


class SpecError(ValueError):
    """A spec that cannot be read; the message names its source and says why."""


class SpecTooLarge(SpecError, ReportTooLarge):
    """A spec past one of its limits (`limit` says which): its message says how to raise it."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


def load_spec(
    data: bytes, source: str = "", limits: ReportLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """An OpenAPI 3.x or Swagger 2.0 document from JSON or YAML bytes, as plain JSON values."""
    where = source or "the spec"
    if len(data) > limits.file_bytes:
        raise SpecTooLarge(file_too_large(where, len(data), limits), "file_bytes")
    try:
        spec = _parse(data, where, limits)
    except RecursionError:  # the limits come first; this is only a last guard
        raise SpecTooLarge(too_deep(where, _NESTING, MAX_SPEC_DEPTH), "depth") from None
    if spec is None:
        raise SpecError(f"{where} is empty")
    if not isinstance(spec, dict):
        kind = _KINDS.get(type(spec), type(spec).__name__)
        raise SpecError(f"{where} is not an OpenAPI document: its top level is a {kind}, not a map")
    if "openapi" not in spec and "swagger" not in spec:
        raise SpecError(
            f"{where} is not an OpenAPI document: it has no `openapi` or `swagger` field"
        )
    return spec


def _parse(data: bytes, where: str, limits: ReportLimits) -> Any:
    if _LOOKS_LIKE_JSON.match(data):
        _check_json_shape(data, where, limits)
        try:
            return json.loads(data)
        except ValueError:
            pass  # YAML's flow style looks like JSON too
    import yaml  # only YAML specs need it: kept out of the server until one comes

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_yaml_shape(data, where, limits, loader)
        loaded = yaml.load(data, Loader=loader)
    except SpecError:
        raise
    except (yaml.YAMLError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise SpecError(f"{where} is neither JSON nor YAML: {reason}") from None
    budget = max(MIN_EXPANDED_BUDGET, MAX_EXPANSION * len(data))
    return _Expansion(where, budget, limits).copy(loaded, 0)


def _check_json_shape(data: bytes, where: str, limits: ReportLimits) -> None:
    """Count the values and the nesting of JSON on its bytes, strings left out, before it is
    parsed: every step here runs in C and allocates at most a copy of the input."""
    skeleton = _JSON_STRING.sub(b"", data)
    values = 1 + skeleton.count(b",") + skeleton.count(b"[") + skeleton.count(b"{")
    if values > limits.nodes:
        raise SpecTooLarge(too_many_nodes(where, limits), "nodes")
    brackets = skeleton.translate(None, _NOT_BRACKET)
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > MAX_SPEC_DEPTH:
        raise SpecTooLarge(too_deep(where, _NESTING, MAX_SPEC_DEPTH), "depth")


def _check_yaml_shape(
    data: bytes, where: str, limits: ReportLimits, loader: type[SafeLoader]
) -> None:
    """Count the nodes and the nesting of YAML on the parser's events, before any is built
    (a built node costs some 400 bytes)."""
    import yaml

    values = 0
    depth = 0
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for event in yaml.parse(data, Loader=loader):
        kind = type(event)
        if kind in starts:
            depth += 1
            if depth > MAX_SPEC_DEPTH:
                raise SpecTooLarge(too_deep(where, _NESTING, MAX_SPEC_DEPTH), "depth")
        elif kind in ends:
            depth -= 1
            continue
        elif kind is not yaml.ScalarEvent and kind is not yaml.AliasEvent:
            continue
        values += 1
        if values > limits.nodes:
            raise SpecTooLarge(too_many_nodes(where, limits), "nodes")


class _Expansion:
    """Copies a loaded YAML tree into JSON values, refusing one that expands past its budget,
    past the limit of values, or deeper than the limit of nesting (an alias loop is endless)."""

    def __init__(self, where: str, budget: int, limits: ReportLimits) -> None:
        self.where = where
        self.left = budget
        self.limits = limits
        self.values = 0

    def copy(self, node: Any, depth: int) -> Any:
        self.left -= NODE_COST + (len(node) if isinstance(node, str) else 0)
        if self.left < 0:
            raise SpecTooLarge(
                f"{self.where} expands far beyond its size through YAML anchors and aliases "
                f"(more than {MAX_EXPANSION} times); this limit is fixed",
                "nodes",
            )
        self.values += 1
        if self.values > self.limits.nodes:
            raise SpecTooLarge(too_many_nodes(self.where, self.limits), "nodes")
        if depth > MAX_SPEC_DEPTH:
            raise SpecTooLarge(too_deep(self.where, _NESTING, MAX_SPEC_DEPTH), "depth")
        if isinstance(node, dict):
            return {
                self.copy(key_text(key), depth + 1): self.copy(value, depth + 1)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [self.copy(item, depth + 1) for item in node]
        if node is None or isinstance(node, str | int | float | bool):
            return node
        if isinstance(node, datetime.date):
            return node.isoformat()
        return str(node)


def key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, datetime.date):
        return key.isoformat()
    return str(key)
