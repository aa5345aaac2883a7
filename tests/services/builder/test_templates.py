"""The templates Paddock ships, as the builder's services read them."""

from __future__ import annotations

import json

import pytest

from paddock.domain.builder.templates import CONTENT_FILE, MANIFEST
from paddock.domain.errors import NotFound
from paddock.services.builder.templates import get_template, load_templates, template_files


def test_the_three_templates_come_in_their_plan_order_with_their_scripts() -> None:
    templates = load_templates()
    assert [t.name for t in templates] == ["static-site", "fastapi-htmx", "vite-react"]
    assert [t.needs_network for t in templates] == [False, True, True]
    for template in templates:
        assert template.scripts.dev
        assert template.scripts.unit_test
        assert template.scripts.e2e_test
    assert templates[0].scripts.setup == ""
    assert "npm ci" in templates[2].scripts.setup


def test_a_template_is_found_by_name() -> None:
    assert get_template("fastapi-htmx").label.startswith("Python web app")


def test_an_unknown_template_names_the_ones_there_are() -> None:
    with pytest.raises(NotFound) as raised:
        get_template("nope")
    assert raised.value.code == "unknown_template"
    assert "static-site" in raised.value.message
    assert raised.value.details["known"] == ["fastapi-htmx", "static-site", "vite-react"]
    with pytest.raises(NotFound):
        template_files("nope")


@pytest.mark.parametrize("name", ["static-site", "fastapi-htmx", "vite-react"])
def test_a_template_s_files_are_what_a_build_copies(name: str) -> None:
    found = template_files(name)
    assert list(found) == sorted(found)
    assert CONTENT_FILE in found and ".gitignore" in found and "README.md" in found
    assert MANIFEST not in found
    assert not [p for p in found if "__pycache__" in p or "node_modules" in p or ".venv" in p]
    assert all(isinstance(content, bytes) for content in found.values())
    app = json.loads(found[CONTENT_FILE])
    assert set(app) == {"name", "tagline", "users", "features", "changes"}


def test_nested_files_are_named_by_their_relative_path() -> None:
    assert "src/App.jsx" in template_files("vite-react")
    assert "static/htmx.min.js" in template_files("fastapi-htmx")
    assert "tests/test_app.py" in template_files("static-site")
