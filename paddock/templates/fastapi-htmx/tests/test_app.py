"""The server's pages, through FastAPI's TestClient (no server process needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app import main
from fastapi.testclient import TestClient

client = TestClient(main.app)


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A content file of the test's own, in place of the app's app.json."""
    path = tmp_path / "app.json"
    path.write_text(
        json.dumps(
            {
                "name": "Run club",
                "tagline": "Runs, together.",
                "users": "Club members",
                "features": [
                    {"name": "Sign up", "description": "Pick a date and a distance"},
                    {"name": "Leaderboard", "description": "Who ran the most"},
                ],
                "changes": [],
            }
        )
    )
    monkeypatch.setattr(main, "CONTENT", path)
    return path


def test_the_app_json_shipped_is_well_formed() -> None:
    app = json.loads((Path(main.__file__).parent.parent / "app.json").read_text())
    assert app["name"].strip()
    assert all(feature["name"].strip() for feature in app["features"])
    assert isinstance(app["changes"], list)


def test_the_home_page_renders_the_content(content: Path) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<h1 id="app-name">Run club</h1>' in page.text
    assert "<title>Run club</title>" in page.text
    assert "<strong>Sign up</strong>" in page.text
    assert "Pick a date and a distance" in page.text
    assert 'id="tagline"' in page.text and "Runs, together." in page.text


def test_the_home_page_shows_whats_new_only_when_there_is_news(content: Path) -> None:
    assert "<li>Dark mode</li>" not in client.get("/").text
    app = json.loads(content.read_text())
    content.write_text(json.dumps({**app, "changes": ["Dark mode"]}))
    assert "<li>Dark mode</li>" in client.get("/").text


def test_a_feature_s_details_are_an_htmx_partial(content: Path) -> None:
    page = client.get("/")
    assert 'hx-get="/features/1"' in page.text
    assert "/static/htmx.min.js" in page.text
    details = client.get("/features/1")
    assert details.status_code == 200
    assert "<strong>Leaderboard</strong>" in details.text
    assert "<html" not in details.text


def test_an_unknown_feature_is_not_found(content: Path) -> None:
    assert client.get("/features/7").status_code == 404


def test_htmx_is_served() -> None:
    assert client.get("/static/htmx.min.js").status_code == 200


def test_app_json_is_served(content: Path) -> None:
    assert [f["name"] for f in client.get("/app.json").json()["features"]] == [
        "Sign up",
        "Leaderboard",
    ]
