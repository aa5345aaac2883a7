"""The builder's decisions through the real server, offline: the gate after a preview (opened
once, decided once), park and resume, change requests talked through and confirmed as
iterations up to the tier's limit, the alignment score, and the feature flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.builder_helpers import ask_change, iterate, settled
from tests.e2e.server import ServerProcess

IDEA = "A booking page for my yoga studio"
ANSWERS = {
    "users": "Students of the studio",
    "features": "Class schedule: see this week's classes\nBook a class: pick one and a time",
    "non_goals": "No payments",
}
# A tier of 3 iterations: the first build, one change, then the last.
TIERS = {"PADDOCK_BUILDER_TIERS": '{"tiny": 3, "partner": 5}', "PADDOCK_BUILDER_TIER": "tiny"}


def built_app(server: ServerProcess) -> dict[str, Any]:
    """An app at v0.1 (its first build ready)."""
    app: dict[str, Any] = server.api("POST", "/api/apps", json={"idea": IDEA})
    server.api("POST", f"/api/apps/{app['id']}/answers", json={"answers": ANSWERS})
    server.api("POST", f"/api/apps/{app['id']}/plan")
    server.api("PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": "static-site"})
    build = settled(server, server.api("POST", f"/api/apps/{app['id']}/builds", json={}))
    assert build["status"] == "ready", (build["error"], build["detail"])
    return app


def kinds(server: ServerProcess, app: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in server.api("GET", f"/api/apps/{app['id']}/timeline")]


def test_the_gate_opens_once_per_version_and_is_decided_once(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", env=TIERS) as server:
        app = server.api("POST", "/api/apps", json={"idea": IDEA})
        # Nothing built yet: nothing to decide.
        assert server.api("POST", f"/api/apps/{app['id']}/preview-viewed") == {"gate": None}
        app = built_app(server)
        first = server.api("POST", f"/api/apps/{app['id']}/preview-viewed")["gate"]
        assert first["status"] == "pending" and first["version"] == "v0.1"
        assert first["question"] == "You've seen your MVP. Ready to decide what's next?"
        assert [c["choice"] for c in first["choices"]] == ["iterate", "ship", "park"]
        again = server.api("POST", f"/api/apps/{app['id']}/preview-viewed")["gate"]
        assert again["id"] == first["id"]  # one pending gate per app
        assert server.api("GET", f"/api/apps/{app['id']}/gate")["gate"]["id"] == first["id"]

        decided = server.api(
            "POST", f"/api/gates/{first['id']}/resolve", json={"choice": "ship", "reason": "Go"}
        )
        assert decided["status"] == "resolved" and decided["choice"] == "ship"
        twice = server.client.post(
            f"/api/gates/{first['id']}/resolve", json={"choice": "park"}, headers=server.auth
        )
        assert twice.status_code == 409 and twice.json()["code"] == "gate_resolved"
        bad = server.client.post(
            f"/api/gates/{first['id']}/resolve", json={"choice": "maybe"}, headers=server.auth
        )
        assert bad.status_code == 422
        # v0.1 was decided: seeing it again asks nothing.
        assert server.api("POST", f"/api/apps/{app['id']}/preview-viewed") == {"gate": None}
        entries = server.api("GET", f"/api/apps/{app['id']}/timeline")
        decision = [e for e in entries if e["kind"] == "decision"]
        assert len(decision) == 1 and decision[0]["message"] == "Decided to ship v0.1: Go"
        assert kinds(server, app).count("gate_opened") == 1


def test_park_stops_the_preview_and_refuses_builds_until_resumed(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", env=TIERS) as server:
        app = built_app(server)
        build = server.api("GET", f"/api/apps/{app['id']}/builds")[0]
        assert server.api("GET", f"/api/previews/{build['preview_id']}")["status"] == "running"
        gate = server.api("POST", f"/api/apps/{app['id']}/preview-viewed")["gate"]
        server.api("POST", f"/api/gates/{gate['id']}/resolve", json={"choice": "park"})

        parked = server.api("GET", f"/api/apps/{app['id']}")
        assert parked["parked"] is True and parked["parked_at"]
        preview = server.api("GET", f"/api/previews/{build['preview_id']}")
        assert preview["status"] not in ("starting", "running")
        for method, path, body in (
            ("POST", f"/api/apps/{app['id']}/changes", {"description": "Add a waitlist"}),
            ("POST", f"/api/apps/{app['id']}/versions/v0.1/preview", None),
        ):
            refused = server.client.request(method, path, json=body, headers=server.auth)
            assert refused.status_code == 409 and refused.json()["code"] == "app_parked", path

        resumed = server.api("POST", f"/api/apps/{app['id']}/resume")
        assert resumed["parked"] is False
        seen = server.api("POST", f"/api/apps/{app['id']}/versions/v0.1/preview")
        assert seen["status"] == "running"
        assert {"decision", "parked", "resumed"} <= set(kinds(server, app))


def test_changes_are_clarified_confirmed_and_counted_to_the_tiers_cap(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", env=TIERS) as server:
        app = built_app(server)
        # A later build is a change request: a bare build is refused.
        bare = server.client.post(f"/api/apps/{app['id']}/builds", json={}, headers=server.auth)
        assert bare.status_code == 422 and bare.json()["code"] == "change_required"
        iterations = server.api("GET", f"/api/apps/{app['id']}/iterations")
        assert iterations == {
            "used": 1,
            "limit": 3,
            "tier": "tiny",
            "label": "Iteration 1 of 3 (Tiny tier)",
            "exhausted": False,
            "next_is_last": False,
        }
        alignment = server.api("GET", f"/api/apps/{app['id']}/alignment")
        assert alignment["score"] == 100 and alignment["requests"] == []

        gate = server.api("POST", f"/api/apps/{app['id']}/preview-viewed")["gate"]
        change = ask_change(
            server,
            app["id"],
            "Show how many spots are left in each class",
            {"done_looks_like": "A number beside each class", "where": "The class schedule"},
        )
        assert change["version"] == "v0.1" and change["features"] == ["Class schedule"]
        assert change["new_capability"] is False
        assert "A number beside each class" in change["clarified"]
        # One conversation at a time.
        other = server.client.post(
            f"/api/apps/{app['id']}/changes",
            json={"description": "Something else"},
            headers=server.auth,
        )
        assert other.status_code == 409 and other.json()["code"] == "change_in_progress"

        confirmed = server.api("POST", f"/api/changes/{change['id']}/confirm", json={})
        assert confirmed["iteration"] == 2 and confirmed["tier_limit"] == 3
        assert confirmed["alignment_score"] == 100 and confirmed["scope_creep"] is False
        second = settled(server, server.api("GET", f"/api/builds/{confirmed['build_id']}"))
        assert second["status"] == "ready" and second["version"] == "v0.2"
        # Confirming a change decided the pending gate: iterate.
        decided = server.api("GET", f"/api/apps/{app['id']}/gates")
        assert [(g["id"], g["choice"]) for g in decided] == [(gate["id"], "iterate")]

        # The last iteration is confirmed explicitly; a new capability against a non-goal
        # is scope creep, said and not blocked.
        last = ask_change(server, app["id"], "Take card payments for classes with Stripe")
        assert last["new_capability"] is True or last["against_non_goals"]
        unconfirmed = server.client.post(
            f"/api/changes/{last['id']}/confirm", json={}, headers=server.auth
        )
        assert unconfirmed.status_code == 409
        assert unconfirmed.json()["code"] == "last_iteration_unconfirmed"
        assert "last iteration" in unconfirmed.json()["message"]
        done = server.api("POST", f"/api/changes/{last['id']}/confirm", json={"confirm_last": True})
        assert done["iteration"] == 3 and done["alignment_score"] == 50 and done["scope_creep"]
        settled(server, server.api("GET", f"/api/builds/{done['build_id']}"))

        capped = server.client.post(
            f"/api/apps/{app['id']}/changes",
            json={"description": "One more thing"},
            headers=server.auth,
        )
        assert capped.status_code == 409 and capped.json()["code"] == "iteration_limit_reached"
        assert "all 3 iterations" in capped.json()["message"]
        alignment = server.api("GET", f"/api/apps/{app['id']}/alignment")
        assert alignment["score"] == 50 and alignment["band"] == "red"
        assert alignment["scope_creep"] is True and len(alignment["requests"]) == 2
        assert "Class schedule" in alignment["explanation"]
        assert {"change_requested", "change_clarified", "change_confirmed"} <= set(
            kinds(server, app)
        )


def test_a_cancelled_iteration_gives_its_iteration_back(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", env=TIERS) as server:
        app = built_app(server)
        build = iterate(server, app["id"], "Add a contact section")
        server.api("POST", f"/api/builds/{build['id']}/cancel")
        assert server.api("GET", f"/api/apps/{app['id']}/iterations")["used"] == 1
        dropped = ask_change(server, app["id"], "Add a map")
        assert server.api("POST", f"/api/changes/{dropped['id']}/discard")["status"] == (
            "discarded"
        )
        assert server.api("GET", f"/api/apps/{app['id']}/iterations")["used"] == 1


def test_a_switched_off_feature_answers_403_and_is_listed_off(tmp_path: Path) -> None:
    env = {"PADDOCK_FEATURES": '{"builder": false}'}
    with ServerProcess(tmp_path / "data", env=env) as server:
        flags = {f["name"]: f for f in server.api("GET", "/api/features")}
        assert flags["builder"]["enabled"] is False and flags["builder"]["beta"] is False
        assert flags["builder_chat"]["enabled"] is True and flags["builder_chat"]["beta"] is True
        for path in ("/api/apps", "/api/changes/nope", "/api/apps/nope/gate"):
            refused = server.client.get(path, headers=server.auth)
            assert refused.status_code == 403, path
            assert refused.json()["code"] == "feature_disabled"
            assert "builder" in refused.json()["message"]
