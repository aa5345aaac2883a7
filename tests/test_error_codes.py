"""Every error code Paddock can answer with is in docs/api.md, in the row of its HTTP status.

The codes are read from the source with `ast`: a `code = "..."` in an error class, and every
call of an error class (a `PaddockError` subclass) with its `code="..."` (or the class's own
code when the call gives none). The module is imported to resolve the called name to its class
and the class's `http_status`. A new code is covered the moment it is raised.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import paddock
from paddock.domain.errors import PaddockError

ROOT = Path(paddock.__file__).parent
API_DOC = ROOT.parent / "docs" / "api.md"
_CODE = re.compile(r"`([a-z][a-z0-9_]*)`")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _in_package(path: Path) -> bool:
    return all((d / "__init__.py").is_file() for d in path.parents if d.is_relative_to(ROOT))


def _resolve(node: ast.expr, names: dict[str, Any]) -> Any:
    """What a called name (`Conflict`, `errors.Conflict`) is in its module, or None."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, names)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def _error_class(value: Any) -> type[PaddockError] | None:
    return value if isinstance(value, type) and issubclass(value, PaddockError) else None


def raised_codes() -> dict[str, set[int]]:
    """Every error code in paddock/, with the HTTP statuses it is raised with."""
    found: dict[str, set[int]] = defaultdict(set)
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "__main__.py" or "migrations" in path.parts or not _in_package(path):
            continue  # run, not imported (the command line, Alembic's); data (the demo's)
        tree = ast.parse(path.read_text(), filename=str(path))
        names = vars(importlib.import_module(_module_name(path)))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and (cls := _error_class(names.get(node.name))):
                found[cls.code].add(cls.http_status)
            if not isinstance(node, ast.Call):
                continue
            cls = _error_class(_resolve(node.func, names))
            code = next((k.value for k in node.keywords if k.arg == "code"), None)
            if cls is None:
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    found.setdefault(code.value, set())  # a helper's: documented somewhere
                continue
            if code is None:
                found[cls.code].add(cls.http_status)
            elif isinstance(code, ast.Constant) and isinstance(code.value, str):
                found[code.value].add(cls.http_status)
    return found


def documented_codes() -> tuple[dict[int, set[str]], set[str]]:
    """The Errors section of docs/api.md: its table's codes per HTTP status, and every code
    the section names."""
    section = API_DOC.read_text().split("\n## Errors", 1)[1].split("\n## ", 1)[0]
    rows: dict[int, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].isdigit():
            rows[int(cells[0])] = set(_CODE.findall(cells[1]))
    return rows, set(_CODE.findall(section))


def test_every_raised_code_is_documented_with_its_status() -> None:
    rows, named = documented_codes()
    assert rows, "docs/api.md has no error table"
    missing: list[str] = []
    for code, statuses in sorted(raised_codes().items()):
        if code not in named:
            missing.append(f"{code} (not in the Errors section)")
        missing += [
            f"{code} (not in the {status} row)"
            for status in sorted(statuses)
            if status in rows and code not in rows[status]
        ]
    assert missing == [], "undocumented error codes in docs/api.md:\n" + "\n".join(missing)


def test_the_scan_finds_codes_of_every_kind() -> None:
    """The scan itself: class codes, `code=` of a raise, and a class's own code."""
    codes = raised_codes()
    assert 404 in codes["attempt_not_found"]  # raise NotFound(..., code=...)
    assert 500 in codes["git_failed"]  # class GitError: code = ...
    assert 409 in codes["attempt_busy"]
    assert 422 in codes["not_an_agent_turn"]
