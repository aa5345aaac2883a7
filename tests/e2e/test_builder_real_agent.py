"""The builder with a key: the Anthropic planner asks the questions, writes the brief and
offers the plan, and the real Claude Code CLI writes the code of the build, both against the
fake model of tests/agents (a test double). A malformed model answer is a friendly failure.
"""

from __future__ import annotations

import json
from pathlib import Path

from paddock.agents import claude_code
from tests.agents.conftest import installed_cli
from tests.agents.dialects.anthropic import AnthropicDialect
from tests.agents.fake_model import Conversation, FakeModel, Reply, RunShell, Say
from tests.e2e.agent_helpers import agent_server
from tests.e2e.server import ServerProcess
from tests.e2e.test_builder_flow import page, settled

API_KEY = "sk-ant-test-builder-0123456789"
IDEA = "A tiny page that lists my band's next gigs"
QUESTIONS = {
    "questions": [
        {"id": "users", "text": "Who will read it?", "hint": "fans, venues..."},
        {"id": "features", "text": "What must it show?", "hint": "one per line"},
    ]
}
BRIEF = {
    "name": "Gig list",
    "problem": "Fans never know where the band plays next.",
    "users": "Fans of the band",
    "features": [
        {"name": "Next gigs", "description": "The dates and places of the next gigs"},
        {"name": "Ticket links", "description": "A link to buy tickets for each gig"},
    ],
    "non_goals": ["No selling tickets here"],
}
PLAN = {
    "options": [
        {
            "template": "static-site",
            "title": "A simple web page",
            "summary": "Pages and a little JavaScript.",
            "pros": ["Fast to build"],
            "cons": ["Nothing is saved"],
            "recommended": True,
        },
        {"template": "no-such-template", "title": "Something else", "recommended": False},
        {"template": "fastapi-htmx", "title": "A small web app", "recommended": False},
    ]
}
CONTENT = {
    "name": "Gig list",
    "tagline": "Where the band plays next.",
    "users": "Fans of the band",
    "features": [
        {"name": "Next gigs", "description": "Dates and places"},
        {"name": "Ticket links", "description": "Buy a ticket"},
    ],
    "changes": [],
}


def anthropic_server(data: Path, base_url: str) -> ServerProcess:
    return agent_server(
        data,
        {
            "PADDOCK_ANTHROPIC_BASE_URL": base_url,
            "PADDOCK_ANTHROPIC_API_KEY": API_KEY,
            "PADDOCK_BUILDER_SCREENSHOT": "false",  # the network is the host's here
        },
    )


def test_a_model_plans_and_claude_code_builds(tmp_path: Path) -> None:
    installed_cli(claude_code.ADAPTER)

    def script(conversation: Conversation) -> Reply:
        asked = conversation.last_user_text
        if asked.startswith("The founder's idea:") and "Their answers:" not in asked:
            return Say("Here you go:\n```json\n" + json.dumps(QUESTIONS) + "\n```")
        if "Their answers:" in asked:
            return Say(json.dumps(BRIEF))
        if asked.startswith("The brief:"):
            return Say(json.dumps(PLAN))
        # Claude Code, with the build's prompt: it rewrites the content file (with its shell
        # tool: its Write tool refuses a file it has not read), then says so.
        if conversation.tool_results == 0:
            return RunShell(f"printf '%s' '{json.dumps(CONTENT)}' > app.json")
        return Say("Wrote app.json\n\nThe page lists the next gigs with ticket links.")

    with (
        FakeModel(script, [AnthropicDialect()]) as fake,
        anthropic_server(tmp_path / "data", fake.url) as server,
    ):
        app = server.api(
            "POST", "/api/apps", json={"idea": IDEA, "agent": {"profile": "claude-code"}}
        )
        assert app["planner"] == "anthropic"
        assert [q["id"] for q in app["questions"]] == ["users", "features"]
        brief = server.api(
            "POST",
            f"/api/apps/{app['id']}/answers",
            json={"answers": {"users": "fans", "features": "gigs\ntickets"}},
        )
        assert [f["name"] for f in brief["features"]] == ["Next gigs", "Ticket links"]
        plan = server.api("POST", f"/api/apps/{app['id']}/plan")["plan"]
        # The template Paddock has not is dropped; exactly one is recommended.
        assert [o["template"] for o in plan] == ["static-site", "fastapi-htmx"]
        assert [o["recommended"] for o in plan] == [True, False]
        server.api("PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": "static-site"})

        build = server.api("POST", f"/api/apps/{app['id']}/builds", json={})
        build = settled(server, build, timeout=300)
        attempt_id = server.api("GET", f"/api/apps/{app['id']}")["attempt_id"]
        assert build["status"] == "ready", (build["error"], build["detail"])
        assert build["summary"]["features"] == ["Next gigs", "Ticket links"]
        assert [f["name"] for f in page(server, build, "app.json").json()["features"]] == [
            "Next gigs",
            "Ticket links",
        ]
        # The code stage was Claude Code's turn, prompted with the brief.
        turns = [
            p
            for p in server.api("GET", f"/api/attempts/{attempt_id}/processes")
            if p["reason"] in ("agent", "follow_up")
        ]
        assert len(turns) == 1 and turns[0]["status"] == "succeeded"
        asked = [r.json() for r in fake.posts("/v1/messages")]
        assert any("Gig list" in json.dumps(r) and "tools" in r for r in asked)


def test_a_malformed_model_answer_is_a_friendly_failure(tmp_path: Path) -> None:
    def script(conversation: Conversation) -> Reply:
        return Say("I think you should build something nice! {not json")

    with (
        FakeModel(script, [AnthropicDialect()]) as fake,
        anthropic_server(tmp_path / "data", fake.url) as server,
    ):
        answer = server.client.post("/api/apps", json={"idea": IDEA})
        assert answer.status_code == 502
        body = answer.json()
        assert body["code"] == "planner_failed"
        assert "Try again" in body["message"] and API_KEY not in answer.text
        assert server.api("GET", "/api/apps") == []  # nothing half-made was left
