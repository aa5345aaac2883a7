"""OpenAPI specs read safely: JSON or YAML (OpenAPI 3.x or Swagger 2.0) into plain JSON values,
with a size limit and YAML's anchors and aliases kept from expanding a small document into a
huge one."""

from __future__ import annotations

import datetime
import json
from typing import Any

MAX_SPEC_BYTES = 20 * 1024 * 1024
# YAML anchors and aliases let a small document stand for a huge one ("billion laughs"). Expanded,
# a document may weigh MAX_EXPANSION times its input (a node counts NODE_COST, a string its length
# more), or MIN_EXPANDED_BUDGET if that is more; beyond that it is refused.
MAX_EXPANSION = 8
MIN_EXPANDED_BUDGET = 1_000_000
NODE_COST = 8
_KINDS = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}


class SpecError(ValueError):
    """A spec that cannot be read; the message names its source and says why."""


def load_spec(data: bytes, source: str = "") -> dict[str, Any]:
    """An OpenAPI 3.x or Swagger 2.0 document from JSON or YAML bytes, as plain JSON values."""
    where = source or "the spec"
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"{where} is too large: {len(data):,} bytes, over the 20 MB limit")
    try:
        spec = _parse(data, where)
    except RecursionError:
        raise SpecError(f"{where} is nested too deeply") from None
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


def _parse(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        pass
    import yaml  # only YAML specs need it: kept out of the server until one comes

    try:
        loaded = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:300]
        raise SpecError(f"{where} is neither JSON nor YAML: {reason}") from None
    budget = max(MIN_EXPANDED_BUDGET, MAX_EXPANSION * len(data))
    return _Expansion(where, budget).copy(loaded)


class _Expansion:
    """Copies a loaded YAML tree into JSON values, refusing one that expands past its budget."""

    def __init__(self, where: str, budget: int) -> None:
        self.where = where
        self.left = budget

    def copy(self, node: Any) -> Any:
        self.left -= NODE_COST + (len(node) if isinstance(node, str) else 0)
        if self.left < 0:
            raise SpecError(
                f"{self.where} expands far beyond its size through YAML anchors and aliases"
            )
        if isinstance(node, dict):
            return {self.copy(key_text(key)): self.copy(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.copy(item) for item in node]
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
