"""The app templates Paddock ships (the `paddock.templates` package: one folder per template,
each with a `template.toml` manifest) and their files, which a build copies into a new app's
repository. Read through importlib.resources, so they are found the same from a checkout and
from an installed wheel.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from paddock.domain.builder.templates import MANIFEST, AppTemplate, parse_manifest
from paddock.domain.errors import NotFound

_PACKAGE = "paddock.templates"
# Made by running a template in place (tests, a developer's setup), never part of it.
_SKIPPED = frozenset({"__pycache__", "node_modules", ".venv"})


def _folders() -> dict[str, Traversable]:
    """Each template's folder, by name: the folders holding a manifest."""
    root = files(_PACKAGE)
    return {
        entry.name: entry
        for entry in root.iterdir()
        if entry.is_dir() and entry.joinpath(MANIFEST).is_file()
    }


def load_templates() -> list[AppTemplate]:
    """Every template Paddock ships, in their plan order."""
    templates = [
        parse_manifest(name, folder.joinpath(MANIFEST).read_text(encoding="utf-8"))
        for name, folder in _folders().items()
    ]
    return sorted(templates, key=lambda t: (t.order, t.name))


def get_template(name: str) -> AppTemplate:
    for template in load_templates():
        if template.name == name:
            return template
    raise _unknown(name)


def template_files(name: str) -> dict[str, bytes]:
    """The template's files, by path relative to its folder (`/`-separated), sorted: what a
    build copies, so without its manifest."""
    folder = _folders().get(name)
    if folder is None:
        raise _unknown(name)
    found = _files_under(folder)
    found.pop(MANIFEST, None)
    return dict(sorted(found.items()))


def _files_under(folder: Traversable, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for entry in folder.iterdir():
        if entry.name in _SKIPPED or entry.name.endswith(".pyc"):
            continue
        if entry.is_dir():
            found.update(_files_under(entry, f"{prefix}{entry.name}/"))
        else:
            found[prefix + entry.name] = entry.read_bytes()
    return found


def _unknown(name: str) -> NotFound:
    known = sorted(_folders())
    return NotFound(
        f"no app template is named {name!r} (there are: {', '.join(known)})",
        code="unknown_template",
        known=known,
    )
