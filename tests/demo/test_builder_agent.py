"""The offline builder agent, run as Paddock runs it: `python3 builder_agent.py` in an app's
folder, the prompt in $PADDOCK_PROMPT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

AGENT = Path(str(files("paddock.demo").joinpath("builder_agent.py")))
FIRST_APP = {
    "name": "My app",
    "tagline": "A new app.",
    "users": "Anyone",
    "features": [{"name": "Home page", "description": "Says what it is"}],
    "changes": [],
}


def brief(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Run club",
        "problem": "Our club plans runs in a group chat. Nobody can find the schedule.",
        "users": "Members of my running club",
        "features": [
            {"name": "Sign up for a run", "description": "Pick a date and a distance"},
            {"name": "Leaderboard", "description": "Who ran the most this month"},
        ],
        "non_goals": ["No payments"],
        "change": None,
        **overrides,
    }


def prompt_with(block: str) -> str:
    return f"Build the app the founder described.\n\n```paddock-brief\n{block}\n```\n\nThanks."


def run_agent(folder: Path, prompt: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(AGENT)],
        check=False,
        cwd=folder,
        env={**os.environ, "PADDOCK_PROMPT": prompt, "BUILDER_AGENT_DELAY": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def app_folder(tmp_path: Path) -> Path:
    (tmp_path / "app.json").write_text(json.dumps(FIRST_APP))
    return tmp_path


def content(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "app.json").read_text())  # type: ignore[no-any-return]


def test_a_first_build_writes_the_brief_into_app_json(app_folder: Path) -> None:
    done = run_agent(app_folder, prompt_with(json.dumps(brief())))
    assert done.returncode == 0, done.stderr
    assert "no AI model is called" in done.stdout
    app = content(app_folder)
    assert app["name"] == "Run club"
    assert app["tagline"] == "Our club plans runs in a group chat."
    assert app["users"] == "Members of my running club"
    assert [f["name"] for f in app["features"]] == ["Sign up for a run", "Leaderboard"]
    assert app["features"][1]["description"] == "Who ran the most this month"
    assert app["changes"] == []


def test_a_long_first_sentence_is_cut_to_140_characters(app_folder: Path) -> None:
    done = run_agent(app_folder, prompt_with(json.dumps(brief(problem="word " * 60))))
    assert done.returncode == 0, done.stderr
    assert 0 < len(content(app_folder)["tagline"]) <= 140


def test_a_change_is_added_to_whats_new_and_keeps_the_rest(app_folder: Path) -> None:
    assert run_agent(app_folder, prompt_with(json.dumps(brief()))).returncode == 0
    built = content(app_folder)
    change = brief(features=[{"name": "Other"}], change="Add a dark mode")
    done = run_agent(app_folder, prompt_with(json.dumps(change)))
    assert done.returncode == 0, done.stderr
    assert "Add a dark mode" in done.stdout
    assert content(app_folder) == {**built, "changes": ["Add a dark mode"]}
    assert run_agent(app_folder, prompt_with(json.dumps(brief(change="Export")))).returncode == 0
    assert content(app_folder)["changes"] == ["Add a dark mode", "Export"]


def test_a_prompt_without_a_brief_changes_nothing(app_folder: Path) -> None:
    done = run_agent(app_folder, "Build something nice.")
    assert done.returncode == 1
    assert "no ```paddock-brief block" in done.stderr
    assert content(app_folder) == FIRST_APP


def test_a_brief_that_is_not_json_changes_nothing(app_folder: Path) -> None:
    done = run_agent(app_folder, prompt_with('{"name": "Run club",'))
    assert done.returncode == 1
    assert "not valid JSON" in done.stderr
    assert content(app_folder) == FIRST_APP


def test_a_folder_without_app_json_is_refused(tmp_path: Path) -> None:
    done = run_agent(tmp_path, prompt_with(json.dumps(brief())))
    assert done.returncode == 1
    assert "there is no app.json" in done.stderr
    assert not (tmp_path / "app.json").exists()


def test_the_failure_hook_prints_its_text_and_fails(app_folder: Path) -> None:
    done = run_agent(app_folder, prompt_with(json.dumps(brief())), BUILDER_AGENT_FAIL="out of luck")
    assert done.returncode == 1
    assert "out of luck" in done.stdout + done.stderr
    assert content(app_folder) == FIRST_APP
