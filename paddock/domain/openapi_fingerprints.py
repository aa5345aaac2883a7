"""Fingerprints of the parts of one OpenAPI spec, so two specs' parts compare by value.

A fingerprint is a hash of a canonical form (lists whose order carries no meaning, like
`required`, `enum` or `tags`, sorted) and of the fingerprints of its local `$ref`s. A ref's
fingerprint covers its target as written (its own refs by name) and everything it reaches.
Refs that reach each other (recursive schemas) are found as strongly connected components and
hashed together, once: no loop, and the same fingerprint whichever endpoint reaches them first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from paddock.domain.openapi_spec import key_text

# Deeper than this, a part's contents are no longer told apart: a bound on the recursion.
MAX_COMPARE_DEPTH = 300
_UNORDERED = frozenset(
    ["required", "enum", "tags", "type", "allOf", "anyOf", "oneOf", "consumes", "produces"]
)
_MISSING = object()


class Fingerprints:
    """Fingerprints of parts of one spec; with `resolve`, what their local `$ref`s reach counts."""

    def __init__(self, spec: dict[str, Any], *, resolve: bool = True) -> None:
        self.spec = spec
        self.resolve = resolve
        self._written: dict[str, tuple[str, set[str]]] = {}  # ref -> (its target's hash, its refs)
        self._reached: dict[str, str] = {}  # ref -> hash of it and all it reaches

    def of(self, node: Any) -> str:
        refs: set[str] = set()
        form = _canonical(node, refs, 0)
        if not self.resolve:
            return _hash(form)
        return _hash([form, {ref: self._reach(ref) for ref in refs}])

    def target(self, node: Any) -> Any:
        """`node`, or what its `$ref` chain leads to (a parameter, a path item)."""
        for _ in range(20):
            ref = node.get("$ref") if isinstance(node, dict) else None
            if not isinstance(ref, str) or not ref.startswith("#"):
                return node
            node = _pointer(self.spec, ref)
            if node is _MISSING:
                return None
        return None

    def _reach(self, ref: str) -> str:
        if ref not in self._reached:
            self._fingerprint_from(ref)
        return self._reached[ref]

    def _fingerprint_from(self, start: str) -> None:
        """Tarjan's strongly connected components, without recursion: the refs of a cycle are
        hashed together, once, with the fingerprints of what they point to outside it."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        at: dict[str, int] = {}  # ref -> its place on the stack
        work: list[tuple[str, Iterator[str]]] = []

        def visit(ref: str) -> None:
            index[ref] = low[ref] = len(index)
            at[ref] = len(stack)
            stack.append(ref)
            work.append((ref, iter(sorted(self._written_as(ref)[1]))))

        visit(start)
        while work:
            ref, pointed = work[-1]
            for other in pointed:
                if other not in index and other not in self._reached:
                    visit(other)
                    break
                if other not in self._reached:  # on the stack: part of the cycle being walked
                    low[ref] = min(low[ref], index[other])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[ref])
                if low[ref] == index[ref]:
                    members = stack[at[ref] :]
                    del stack[at[ref] :]
                    self._seal(members)

    def _seal(self, members: list[str]) -> None:
        inside = set(members)
        written = {member: self._written_as(member)[0] for member in members}
        outside = {r for m in members for r in self._written_as(m)[1] if r not in inside}
        whole = _hash([written, {other: self._reached[other] for other in outside}])
        for member in members:
            self._reached[member] = _hash([member, whole])

    def _written_as(self, ref: str) -> tuple[str, set[str]]:
        if ref not in self._written:
            target, refs = _pointer(self.spec, ref), set[str]()
            written = "missing" if target is _MISSING else _hash(_canonical(target, refs, 0))
            self._written[ref] = (written, refs)
        return self._written[ref]


def _canonical(node: Any, refs: set[str], depth: int) -> Any:
    """`node` with keys as text and meaningless list orders sorted; collects its local refs."""
    if depth > MAX_COMPARE_DEPTH:
        return "..."
    if isinstance(node, list):
        return [_canonical(item, refs, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    canonical: dict[str, Any] = {}
    for key, value in node.items():
        text = key_text(key)
        if text == "$ref" and isinstance(value, str) and value.startswith("#"):
            refs.add(value)
        form = _canonical(value, refs, depth + 1)
        if text in _UNORDERED and isinstance(form, list):
            form = sorted(form, key=json_text)
        canonical[text] = form
    return canonical


def _pointer(spec: Any, ref: str) -> Any:
    node = spec
    for raw in ref[1:].split("/")[1:]:
        step = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return _MISSING
    return node


def json_text(value: Any) -> str:
    """`value` as JSON text, keys sorted: the same text for equal values."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _hash(value: Any) -> str:
    return hashlib.blake2b(json_text(value).encode(), digest_size=16).hexdigest()
