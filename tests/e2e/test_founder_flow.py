"""The founder's whole path through the real server, twice: with a model key (the Anthropic
planner and the real Claude Code CLI, both against the tests' fake model) and offline (the
offline planner and the `script` agent).

idea → brief → plan → build v0.1 → preview seen → gate: iterate → a change request clarified
(alignment shown) → v0.2, which leaves a key in the code → preview seen → gate: ship → deploy
readiness red → the founder fixes the blocker by a change request → v0.3 → green (no blocker)
→ park → resume. Every step is on the timeline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paddock.agents import claude_code
from paddock.demo import builder_agent
from tests.agents.conftest import installed_cli
from tests.agents.dialects.anthropic import AnthropicDialect
from tests.agents.fake_model import Conversation, FakeModel, Reply, RunShell, Say
from tests.e2e.agent_helpers import agent_server
from tests.e2e.builder_helpers import settled
from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_builder_real_agent import CONTENT

API_KEY = "sk-ant-test-founder-0123456789"
IDEA = "A tiny page that lists my band's next gigs"
ANSWERS = {
    "users": "Fans of the band",
    "features": "Next gigs: the dates and places\nTicket links: where to buy a ticket",
    "non_goals": "No selling tickets here",
}
KEY = "AKIA" + "IOSFODNN7" + "EXAMPLG"  # an AWS access key id's shape
LEAK = f"printf 'const awsKey = \"{KEY}\";\\nconst stripe = process.env.STRIPE_KEY;\\n' > config.js"
FIX = (
    "printf 'const stripe = process.env.STRIPE_KEY;\\n' > config.js && "
    "printf '# The secret key of your Stripe account\\nSTRIPE_KEY=\\n' > .env.example"
)
PRICES = "Show the ticket price beside each gig's ticket link"
MOVE_KEY = "Move the AWS key out of the code and document STRIPE_KEY"


# -- the path -------------------------------------------------------------------------------


def timeline_kinds(server: ServerProcess, app_id: str) -> set[str]:
    return {e["kind"] for e in server.api("GET", f"/api/apps/{app_id}/timeline")}


def decide(server: ServerProcess, app_id: str, version: str, choice: str) -> None:
    """The founder saw the preview of `version`: the gate asks; they decide."""
    gate = server.api("POST", f"/api/apps/{app_id}/preview-viewed")["gate"]
    assert gate["version"] == version and gate["status"] == "pending"
    server.api("POST", f"/api/gates/{gate['id']}/resolve", json={"choice": choice})


def change(
    server: ServerProcess, app_id: str, description: str, before: Callable[[], None]
) -> dict[str, Any]:
    """A change request talked through and confirmed; its build, settled."""
    asked = server.api("POST", f"/api/apps/{app_id}/changes", json={"description": description})
    assert 1 <= len(asked["questions"]) <= 2
    answers = {q["id"]: "As you think best" for q in asked["questions"]}
    clarified = server.api("POST", f"/api/changes/{asked['id']}/answers", json={"answers": answers})
    assert clarified["status"] == "clarified" and clarified["clarified"]
    before()
    confirmed = server.api("POST", f"/api/changes/{asked['id']}/confirm", json={})
    build = settled(server, server.api("GET", f"/api/builds/{confirmed['build_id']}"), 300)
    assert build["status"] == "ready", (build["error"], build["detail"])
    return {**confirmed, "build": build}


def walk(server: ServerProcess, app_id: str, agent: Callable[[str], None]) -> dict[str, Any]:
    """The path after the app was made; `agent(mode)` sets what the next code turn does:
    "" (the first version), "leak" (a key in config.js), "fix" (moved out, documented)."""
    brief = server.api("POST", f"/api/apps/{app_id}/answers", json={"answers": ANSWERS})
    assert [f["name"] for f in brief["features"]] == ["Next gigs", "Ticket links"]
    plan = server.api("POST", f"/api/apps/{app_id}/plan")["plan"]
    assert "static-site" in [o["template"] for o in plan]
    server.api("PUT", f"/api/apps/{app_id}/plan/choice", json={"template": "static-site"})
    agent("")
    first = settled(server, server.api("POST", f"/api/apps/{app_id}/builds", json={}), 300)
    assert first["status"] == "ready" and first["version"] == "v0.1", (
        first["error"],
        first["detail"],
    )

    decide(server, app_id, "v0.1", "iterate")
    prices = change(server, app_id, PRICES, lambda: agent("leak"))
    assert "Ticket links" in prices["features"] and prices["new_capability"] is False
    assert prices["iteration"] == 2 and prices["alignment_score"] == 100
    assert prices["build"]["version"] == "v0.2"
    alignment = server.api("GET", f"/api/apps/{app_id}/alignment")
    assert alignment["band"] == "green" and "Ticket links" in alignment["explanation"]

    decide(server, app_id, "v0.2", "ship")
    red = server.api("GET", f"/api/apps/{app_id}/deploy-readiness")
    assert red["version"] == "v0.2" and red["light"] == "red"
    assert {"secrets", "env_documented"} <= {c["id"] for c in red["blocking"]}
    assert KEY not in json.dumps(red)

    fixed = change(server, app_id, MOVE_KEY, lambda: agent("fix"))
    assert fixed["iteration"] == 3 and fixed["build"]["version"] == "v0.3"
    green = server.api("GET", f"/api/apps/{app_id}/deploy-readiness")
    assert green["version"] == "v0.3" and green["blocking"] == [] and green["ready"] is True

    parked = server.api("POST", f"/api/apps/{app_id}/park")
    assert parked["parked"] is True
    assert server.api("POST", f"/api/apps/{app_id}/resume")["parked"] is False
    assert {
        "idea", "brief", "plan", "plan_chosen", "build_ready", "version", "mvp_built",
        "gate_opened", "decision", "change_requested", "change_clarified", "change_confirmed",
        "deploy_checked", "parked", "resumed",
    } <= timeline_kinds(server, app_id)  # fmt: skip
    return {"prices": prices, "fixed": fixed, "red": red, "green": green}


# -- with a model key -----------------------------------------------------------------------

PLANNED = {
    "questions": {
        "questions": [
            {"id": "users", "text": "Who will read it?", "hint": "fans, venues..."},
            {"id": "features", "text": "What must it show?", "hint": "one per line"},
            {"id": "non_goals", "text": "What must it not do?", "hint": "one per line"},
        ]
    },
    "brief": {
        "name": "Gig list",
        "problem": "Fans never know where the band plays next.",
        "users": "Fans of the band",
        "features": [
            {"name": "Next gigs", "description": "The dates and places of the next gigs"},
            {"name": "Ticket links", "description": "A link to buy tickets for each gig"},
        ],
        "non_goals": ["No selling tickets here"],
    },
    "plan": {
        "options": [
            {"template": "static-site", "title": "A simple page", "recommended": True},
            {"template": "fastapi-htmx", "title": "A small web app", "recommended": False},
        ]
    },
    "change_questions": {
        "questions": [{"id": "shown_how", "text": "How should it look?", "hint": "e.g. '€12'"}]
    },
    "judgement": {"score": 90, "reason": "Both changes improve the ticket links."},
}


def planner_answer(asked: str) -> str | None:
    """The planner's asks, told apart by the user message the prompts of planners/model.py
    write (an agent's prompt names "The change:" too, but never starts as they do); None for
    the agent's turns."""
    if asked.startswith("The founder's idea:"):
        key = "brief" if "Their answers:" in asked else "questions"
    elif not asked.startswith("The brief:"):
        return None
    elif "The changes:" in asked:
        key = "judgement"
    elif "The change:" in asked and "Their answers:" in asked:
        change = asked.split("The change:", 1)[1].split("Their answers:", 1)[0].strip()
        return json.dumps({"clarified": f"{change} (as the founder described it)"})
    elif "The change:" in asked:
        key = "change_questions"
    else:
        key = "plan"
    return json.dumps(PLANNED[key])


def claude_turn(conversation: Conversation) -> Reply:
    """Claude Code's turn: by what its prompt asks, the first version, the prices with a key
    left in the code, or the key moved out; one shell command, then it says it is done."""
    asked = conversation.last_user_text
    if conversation.tool_results:
        return Say("Done: the change is in place.")
    command = f"printf '%s' '{json.dumps(CONTENT)}' > app.json"
    if MOVE_KEY in asked:
        command = FIX
    elif PRICES in asked:
        command = f"{command} && {LEAK}"
    return RunShell(command)


def test_the_founder_path_with_a_model_key(tmp_path: Path) -> None:
    installed_cli(claude_code.ADAPTER)

    def script(conversation: Conversation) -> Reply:
        answer = planner_answer(conversation.last_user_text)
        return Say(answer) if answer is not None else claude_turn(conversation)

    with (
        FakeModel(script, [AnthropicDialect()]) as fake,
        agent_server(
            tmp_path / "data",
            {
                "PADDOCK_ANTHROPIC_BASE_URL": fake.url,
                "PADDOCK_ANTHROPIC_API_KEY": API_KEY,
                "PADDOCK_BUILDER_SCREENSHOT": "false",  # the network is the host's here
            },
        ) as server,
    ):
        app = server.api(
            "POST", "/api/apps", json={"idea": IDEA, "agent": {"profile": "claude-code"}}
        )
        assert app["planner"] == "anthropic"
        walked = walk(server, app["id"], lambda _mode: None)  # the model knows what to do
        prices = walked["prices"]
        assert prices["model_score"] == 90 and "ticket links" in prices["model_reason"]
        assert prices["questions"][0]["id"] == "shown_how"
        assert prices["clarified"].endswith("(as the founder described it)")
        asked = json.dumps([r.json() for r in fake.posts("/v1/messages")])
        assert API_KEY not in json.dumps(server.api("GET", f"/api/apps/{app['id']}"))
        assert "Move the AWS key" in asked  # Claude Code got the change as its prompt


# -- offline --------------------------------------------------------------------------------

MODE = "founder-mode"
SCRIPT = f"""
mode="$(cat "{{git_dir}}/{MODE}" 2>/dev/null || true)"
case "$mode" in
  leak) {LEAK} ;;
  fix) {FIX} ;;
esac
exec python3 {Path(builder_agent.__file__)}
"""


def test_the_founder_path_offline(server: ServerProcess, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "band")
    agent = {"profile": "script", "command": SCRIPT.format(git_dir=repo / ".git")}
    app = server.api(
        "POST", "/api/apps", json={"idea": IDEA, "repo_path": str(repo), "agent": agent}
    )
    assert app["planner"] == "offline"
    walked = walk(server, app["id"], (repo / ".git" / MODE).write_text)
    prices = walked["prices"]
    assert prices["model_score"] is None and [q["id"] for q in prices["questions"]] == [
        "done_looks_like",
        "where",
    ]
