"""The builder face through the real server, offline (no key): idea → questions → brief →
plan → build (named stages, on a real attempt in a real sandbox) → v0.1 running at its
preview → a change → v0.2 → rollback to v0.1's files as v0.3; the timeline has all of it."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path
from typing import Any

import httpx

from paddock.runtime import proctree
from paddock.runtime.browser_shot import HEIGHT, WIDTH
from tests.e2e.builder_helpers import iterate, settled
from tests.e2e.server import ServerProcess
from tests.e2e.test_builder_failures import a_repo, builder_server, start_build
from tests.e2e.test_builder_failures import new_app as failing_app
from tests.e2e.test_builder_failures import settled as failure_settled

IDEA = "A booking page for my yoga studio"
ANSWERS = {
    "users": "Students of the studio",
    "features": "Class schedule: see this week's classes\nBook a class: pick one and a time",
    "non_goals": "No payments",
}
STAGES = ["starting", "scaffold", "code", "deps", "checks"]


def new_app(server: ServerProcess) -> dict[str, Any]:
    app: dict[str, Any] = server.api("POST", "/api/apps", json={"idea": IDEA})
    server.api("POST", f"/api/apps/{app['id']}/answers", json={"answers": ANSWERS})
    planned = server.api("POST", f"/api/apps/{app['id']}/plan")
    assert planned["stage"] == "plan"
    server.api("PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": "static-site"})
    return app


def page(server: ServerProcess, build: dict[str, Any], path: str = "") -> httpx.Response:
    """The build's preview, fetched as a test run would (the key header)."""
    preview = server.api("GET", f"/api/previews/{build['preview_id']}")
    key = server.api("POST", f"/api/previews/{preview['id']}/open")["key"]
    return httpx.get(
        f"http://127.0.0.1:{server.port}/preview/{preview['id']}/{path}",
        headers={"X-Paddock-Preview-Key": key},
        timeout=10,
    )


def assert_pictured(server: ServerProcess, build: dict[str, Any]) -> None:
    """The build's home page pictured by the browser in its sandbox, at the size pictures
    are taken."""
    shot = server.client.get(f"/api/artifacts/{build['screenshot_id']}/download")
    assert shot.status_code == 200 and shot.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", shot.content[16:24]) == (WIDTH, HEIGHT)


def test_idea_to_v01_then_a_change_and_a_rollback(server: ServerProcess) -> None:
    app = server.api("POST", "/api/apps", json={"idea": IDEA})
    assert app["stage"] == "idea" and app["planner"] == "offline"
    assert [q["id"] for q in app["questions"]] == ["users", "features", "non_goals"]

    brief = server.api("POST", f"/api/apps/{app['id']}/answers", json={"answers": ANSWERS})
    assert [f["name"] for f in brief["features"]] == ["Class schedule", "Book a class"]
    assert brief["version"] == 1 and brief["non_goals"] == ["No payments"]

    planned = server.api("POST", f"/api/apps/{app['id']}/plan")
    options = planned["plan"]
    assert 2 <= len(options) <= 3
    assert [o["template"] for o in options if o["recommended"]] == ["static-site"]
    chosen = server.api(
        "PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": "static-site"}
    )
    assert chosen["stage"] == "building" and chosen["template"] == "static-site"

    build = server.api("POST", f"/api/apps/{app['id']}/builds", json={})
    assert build["status"] == "queued" and build["number"] == 1
    build = settled(server, build)
    assert build["status"] == "ready", (build["error"], build["detail"])
    assert build["version"] == "v0.1" and build["progress"] == 100
    assert [t["stage"] for t in build["stage_times"]] == STAGES
    assert all(t["seconds"] is not None for t in build["stage_times"])
    summary = build["summary"]
    assert "app.json" in summary["files_changed"]
    assert summary["features"] == ["Class schedule", "Book a class"]
    assert summary["stack"] and any("unit test" in c for c in summary["checks"])
    assert_pictured(server, build)

    # The preview runs v0.1, with the brief's features in it.
    served = page(server, build, "app.json")
    assert served.status_code == 200
    assert [f["name"] for f in served.json()["features"]] == ["Class schedule", "Book a class"]

    app = server.api("GET", f"/api/apps/{app['id']}")
    assert app["stage"] == "mvp_built" and app["attempt_id"]
    repo = Path(server.api("GET", f"/api/projects/{app['project_id']}")["repo_path"])
    attempt = server.api("GET", f"/api/attempts/{app['attempt_id']}")
    worktree = Path(attempt["worktree_path"])
    assert git(repo, "rev-parse", "v0.1") == git(worktree, "rev-parse", "HEAD")

    # A change request: v0.2, built on v0.1.
    second = settled(server, iterate(server, app["id"], "Add a contact section"))
    assert second["status"] == "ready", (second["error"], second["detail"])
    assert second["version"] == "v0.2" and second["kind"] == "change"
    assert page(server, second, "app.json").json()["changes"] == ["Add a contact section"]

    # Back to v0.1's files, as a new version; nothing rewritten.
    rolled = server.api("POST", f"/api/apps/{app['id']}/versions/v0.1/rollback")
    assert rolled["name"] == "v0.3" and rolled["rolled_back_to"] == "v0.1"
    assert git(worktree, "rev-parse", "HEAD^{tree}") == git(repo, "rev-parse", "v0.1^{tree}")
    assert git(repo, "merge-base", "--is-ancestor", "v0.2", "v0.3") == ""
    assert page(server, second, "app.json").json()["changes"] == []
    versions = server.api("GET", f"/api/apps/{app['id']}/versions")
    assert [v["name"] for v in versions] == ["v0.3", "v0.2", "v0.1"]

    assert_any_version_previews(server, app)
    assert git(worktree, "rev-parse", "HEAD") == rolled["commit"]

    kinds = [e["kind"] for e in server.api("GET", f"/api/apps/{app['id']}/timeline")]
    for kind in ("idea", "brief", "plan", "plan_chosen", "build_queued", "build_stage"):
        assert kind in kinds
    assert kinds.count("build_ready") == 2 and kinds.count("mvp_built") == 1
    assert kinds[-1] == "rollback"


def test_one_build_at_a_time_and_no_build_before_a_plan(server: ServerProcess) -> None:
    app = server.api("POST", "/api/apps", json={"idea": IDEA})
    early = server.client.post(f"/api/apps/{app['id']}/builds", json={})
    assert early.status_code == 409 and early.json()["code"] == "no_plan_chosen"
    app = new_app(server)
    first = server.api("POST", f"/api/apps/{app['id']}/builds", json={})
    again = server.client.post(f"/api/apps/{app['id']}/builds", json={})
    assert again.status_code == 409 and again.json()["code"] == "build_in_progress"
    settled(server, first)


def assert_any_version_previews(server: ServerProcess, app: dict[str, Any]) -> None:
    """v0.2 runs in an attempt of its own; the latest (v0.3) is the app's attempt's."""
    older = server.api("POST", f"/api/apps/{app['id']}/versions/v0.2/preview")
    assert older["status"] == "running" and older["attempt_id"] != app["attempt_id"]
    assert page(server, {"preview_id": older["id"]}, "app.json").json()["changes"] == [
        "Add a contact section"
    ]
    latest = server.api("POST", f"/api/apps/{app['id']}/versions/v0.3/preview")
    assert latest["attempt_id"] == app["attempt_id"]


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_screenshot_started_early_ends_when_the_build_fails_before_its_page(
    tmp_path: Path,
) -> None:
    """The screenshot's browser starts with the code stage, to be sent the page at the checks:
    a build that fails before them tells it there is none, and it ends (nothing is left)."""
    with builder_server(tmp_path / "data", PADDOCK_BUILDER_SCREENSHOT="true") as server:
        repo = a_repo(tmp_path)
        app = failing_app(server, repo, fault="code")
        build = failure_settled(server, start_build(server, app))
        assert build["status"] == "failed" and build["failed_stage"] == "code"
        attempt = server.api("GET", f"/api/apps/{app['id']}")["attempt_id"]
        procs = server.api("GET", f"/api/attempts/{attempt}/processes")
        (shot,) = [p for p in procs if p["reason"] == "screenshot"]
        assert shot["status"] == "succeeded", shot  # not a failure: there was no page
        lines = server.api("GET", f"/api/processes/{shot['id']}/logs")["lines"]
        assert any(line["text"] == "no page to picture" for line in lines)
        assert build["screenshot_id"] is None
        assert not proctree.find_tagged(shot["id"])
