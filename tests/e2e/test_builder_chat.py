"""The builder's chat through the real server, offline: it answers from the app's real state
(the snapshot taken when the panel opens) and runs each action it proposed once confirmed,
through the services (whose refusals it passes on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.builder_helpers import settled
from tests.e2e.server import ServerProcess

IDEA = "A booking page for my yoga studio"
ANSWERS = {
    "users": "Students of the studio",
    "features": "Class schedule: see this week's classes\nBook a class: pick one and a time",
    "non_goals": "No payments",
}


def planned_app(server: ServerProcess) -> dict[str, Any]:
    app: dict[str, Any] = server.api("POST", "/api/apps", json={"idea": IDEA})
    server.api("POST", f"/api/apps/{app['id']}/answers", json={"answers": ANSWERS})
    server.api("POST", f"/api/apps/{app['id']}/plan")
    server.api("PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": "static-site"})
    return app


def say(server: ServerProcess, app: dict[str, Any], message: str) -> dict[str, Any]:
    reply: dict[str, Any] = server.api(
        "POST", f"/api/apps/{app['id']}/chat/messages", json={"message": message}
    )
    return reply


def act(server: ServerProcess, app: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    done: dict[str, Any] = server.api(
        "POST",
        f"/api/apps/{app['id']}/chat/actions",
        json={"kind": action["kind"], "params": action["params"]},
    )
    return done


def test_the_chat_answers_from_state_and_runs_what_was_confirmed(server: ServerProcess) -> None:
    fresh = server.api("POST", "/api/apps", json={"idea": IDEA})
    context = server.api("POST", f"/api/apps/{fresh['id']}/chat/open")
    assert context["stage"] == "idea" and context["build"] is None and context["deploy"] is None
    assert context["features"] == [] and context["non_goals"] == []  # lists, never null

    app = planned_app(server)
    server.api("POST", f"/api/apps/{app['id']}/chat/open")
    proposed = say(server, app, "Build it please")["action"]
    assert proposed["kind"] == "start_build" and proposed["confirm"]
    done = act(server, app, proposed)
    assert done["text"] == "Build 1 is queued." and done["context"]["build"]["number"] == 1
    build = settled(server, server.api("GET", f"/api/apps/{app['id']}/builds")[0])
    assert build["status"] == "ready", (build["error"], build["detail"])

    # The snapshot is the one the panel opened with: reopened, it knows v0.1.
    assert "v0.1" not in say(server, app, "What version is this?")["text"]
    context = server.api("POST", f"/api/apps/{app['id']}/chat/open")
    assert context["latest_version"] == "v0.1" and context["preview_url"]
    assert context["features"] == ["Class schedule", "Book a class"]
    assert "v0.1" in say(server, app, "What version is this?")["text"]
    preview = say(server, app, "Where's my preview?")
    assert context["preview_url"] in preview["text"] + str(preview["link"])
    blocking = say(server, app, "What's blocking my deploy?")
    assert "no deploy-readiness check" in blocking["text"]
    assert blocking["action"]["params"] == {"page": "deploy"}

    # Deploy readiness checked: the chat says what it found.
    readiness = server.api("GET", f"/api/apps/{app['id']}/deploy-readiness")
    server.api("POST", f"/api/apps/{app['id']}/chat/open")
    answer = say(server, app, "What's blocking my deploy?")["text"]
    assert f"the light is {readiness['light']}" in answer
    for check in readiness["blocking"] + readiness["warnings"]:
        assert check["title"] in answer

    # The gate: "ship it" is proposed, confirmed, decided.
    server.api("POST", f"/api/apps/{app['id']}/preview-viewed")
    server.api("POST", f"/api/apps/{app['id']}/chat/open")
    ship = say(server, app, "Let's ship it")["action"]
    assert ship == {
        "kind": "resolve_gate",
        "label": ship["label"],
        "params": {"decision": "ship"},
        "confirm": ship["confirm"],
    }
    done = act(server, app, ship)
    assert done["link"].endswith("#deploy") and done["context"]["gate_pending"] is False
    gates = server.api("GET", f"/api/apps/{app['id']}/gates")
    assert [g["choice"] for g in gates] == ["ship"]
    again = server.client.post(
        f"/api/apps/{app['id']}/chat/actions",
        json={"kind": "resolve_gate", "params": {"decision": "park"}},
        headers=server.auth,
    )
    assert again.status_code == 409 and again.json()["code"] == "no_pending_gate"

    # A change request: proposed with the founder's words, made with its questions.
    change = say(server, app, "Can you add a contact form at the bottom?")["action"]
    assert change["kind"] == "submit_change_request"
    assert "contact form" in change["params"]["text"]
    done = act(server, app, change)
    made = server.api("GET", f"/api/apps/{app['id']}/changes")
    assert len(made) == 1 and made[0]["status"] == "draft"
    assert made[0]["questions"][0]["text"] in done["text"]

    for bad, status in (
        ({"kind": "navigate", "params": {}}, 422),
        ({"kind": "navigate", "params": {"page": "elsewhere"}}, 422),
        ({"kind": "retry_build", "params": {"build_number": "99"}}, 404),  # build_not_found
        ({"kind": "format_disk", "params": {}}, 422),
    ):
        refused = server.client.post(
            f"/api/apps/{app['id']}/chat/actions", json=bad, headers=server.auth
        )
        assert refused.status_code == status, bad
    timeline = server.api("GET", f"/api/apps/{app['id']}/timeline")
    assert any(e["kind"] == "decision" and "said in the chat" in e["message"] for e in timeline)


def test_the_chat_is_off_when_its_flag_is(tmp_path: Path) -> None:
    env = {"PADDOCK_FEATURES": '{"builder_chat": false}'}
    with ServerProcess(tmp_path / "data", env=env) as server:
        app = server.api("POST", "/api/apps", json={"idea": IDEA})  # the builder is on
        refused = server.client.post(f"/api/apps/{app['id']}/chat/open", headers=server.auth)
        assert refused.status_code == 403 and refused.json()["code"] == "feature_disabled"
