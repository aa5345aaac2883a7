"""The code's shape, checked: layers import downwards only, and a package other modules import
names from says which names it offers (`__all__`), httpx's habit.

Both are read from the source with `ast` (nothing is imported), so a new module is covered the
moment it exists.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import paddock

ROOT = Path(paddock.__file__).parent

# How far down each layer sits (docs/concepts.md "Layers"): a module imports from its own layer
# or from a lower one. Layers of the same height do not import each other, except where
# `SIDEWAYS` says so.
HEIGHT = {
    "domain": 0,
    "config": 1,
    "store": 1,
    "runtime": 1,
    "agents": 1,
    "planners": 1,
    "demo": 1,
    "services": 2,
    "inputs": 2.5,  # the API's input models: what web/, mcp/ and cli/ take from a client
    "web": 3,
    "cli": 3,
    "mcp": 3,
    "__main__": 4,
}
# `paddock serve` runs the web app: the command line is the one client of web/ that is code.
# The web app serves the MCP endpoint at /mcp, and `paddock mcp` relays stdio to it.
SIDEWAYS = {("cli", "web"), ("web", "mcp"), ("cli", "mcp")}


@dataclass(frozen=True)
class Import:
    source: Path
    line: int
    module: str  # the module named by the statement (`paddock.runtime.git`)
    names: tuple[str, ...]  # what a `from` statement takes from it; () for `import x`


def layer_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return parts[0]


def python_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "templates" not in p.parts)


def imports_in(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = tuple(alias.name for alias in node.names)
            yield Import(path, node.lineno, node.module, names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name, ())


def ours(module: str) -> bool:
    return module == "paddock" or module.startswith("paddock.")


def test_every_top_level_module_has_a_layer() -> None:
    unplaced = {layer_of(p) for p in python_files()} - set(HEIGHT) - {"__init__"}
    assert not unplaced, f"add these to HEIGHT (and to docs/concepts.md): {sorted(unplaced)}"


def test_imports_point_down() -> None:
    wrong: list[str] = []
    for path in python_files():
        source = layer_of(path)
        if source == "__init__":
            continue
        for imp in imports_in(path):
            if not ours(imp.module) or imp.module == "paddock":
                continue
            target = imp.module.split(".")[1]
            if target == source or (source, target) in SIDEWAYS:
                continue
            if HEIGHT[target] >= HEIGHT[source]:
                wrong.append(f"{path.relative_to(ROOT)}:{imp.line} ({source}) imports {imp.module}")
    assert not wrong, "imports that do not point down:\n" + "\n".join(wrong)


def packages() -> list[str]:
    return sorted(
        ".".join(("paddock", *p.parent.relative_to(ROOT).parts))
        for p in ROOT.rglob("__init__.py")
        if p.parent != ROOT
    )


def offers_names(package: str) -> bool:
    """Whether the package's `__init__` defines or imports anything (not just a docstring)."""
    init = ROOT.joinpath(*package.split(".")[1:], "__init__.py")
    tree = ast.parse(init.read_text())
    return any(not isinstance(n, ast.Expr) for n in tree.body)


def is_submodule(package: str, name: str) -> bool:
    folder = ROOT.joinpath(*package.split(".")[1:])
    return (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists()


@pytest.mark.parametrize("package", [p for p in packages() if offers_names(p)])
def test_a_package_that_offers_names_lists_them(package: str) -> None:
    module = importlib.import_module(package)
    offered = getattr(module, "__all__", None)
    assert offered is not None, f"{package} defines names but no __all__"
    missing = [name for name in offered if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not have: {missing}"


def test_names_taken_from_a_package_are_in_its_all() -> None:
    """`from paddock.runtime.git import run_git` outside the package: run_git is offered."""
    wrong: list[str] = []
    known = set(packages())
    for path in python_files():
        for imp in imports_in(path):
            if imp.module not in known or not imp.names:
                continue
            inside = ROOT.joinpath(*imp.module.split(".")[1:])
            if inside in path.parents:
                continue
            offered = set(getattr(importlib.import_module(imp.module), "__all__", ()))
            for name in imp.names:
                if name not in offered and not is_submodule(imp.module, name):
                    wrong.append(
                        f"{path.relative_to(ROOT)}:{imp.line} takes {name} from {imp.module}"
                    )
    assert not wrong, "names taken from a package that does not offer them:\n" + "\n".join(wrong)


def test_the_checks_see_a_violation(tmp_path: Path) -> None:
    """The readers above find what they look for (a check that sees nothing passes anything)."""
    module = tmp_path / "m.py"
    module.write_text("from paddock.services.engine import Engine\nimport paddock.web.app\n")
    found = list(imports_in(module))
    assert [(i.module, i.names) for i in found] == [
        ("paddock.services.engine", ("Engine",)),
        ("paddock.web.app", ()),
    ]
    assert HEIGHT["services"] > HEIGHT["runtime"]
    assert is_submodule("paddock.runtime.git", "worktrees")
    assert not is_submodule("paddock.runtime.git", "run_git")
