"""No secret value leaves the server: not in any response, not in any event (issue 13, class 6).

Known secret values are planted everywhere Paddock keeps one: an attempt's env (a name marked
secret and a secret-looking name), a workflow step's agent env (which then runs as a follow-up),
an agent profile's variant env, the model API keys, forge tokens and the preview-signing key of
the settings, and the API token itself. Then the API is driven so that every event type fires,
every GET route of the API (from /api/openapi.json) and of the UI (every router under
paddock/web/ui) is fetched with the real ids, and the whole `/api/events` stream, collected
meanwhile, is read: none of them may hold a secret value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paddock.domain.events import EventType
from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.security.helpers import token
from tests.security.sweep_reading import StreamReader, fetch, filled, leaks, ui_get_routes

HEARTBEAT = "0.3"

# Every event type Paddock publishes that this test can make happen without a forge (the
# pull_request.* events need GitHub or GitLab).
EXPECTED_EVENTS = {
    "project.created",
    "project.updated",
    "project.deleted",
    "steps.updated",
    "task.created",
    "task.updated",
    "task.moved",
    "task.deleted",
    "attempt.created",
    "attempt.updated",
    "attempt.deleted",
    "attempt.diff_changed",
    "process.created",
    "process.updated",
    "resource_usage",
    "follow_up.created",
    "follow_up.updated",
    "test_run.created",
    "test_run.updated",
    "openapi.updated",
    "preview.updated",
    "artifacts.added",
    "app.created",
    "app.updated",
    "build.created",
    "build.updated",
    "version.created",
    "timeline.added",
}
NEEDS_FORGE = {EventType.pull_request_created, EventType.pull_request_updated}
# GET routes that need state this test does not make (409 `not_rebasing`, say): swept all the
# same, their error bodies included, but an error answer is expected. A runner needs a team's
# setup (cluster_redis_url), which this server has not (tests/cluster/test_runners.py drives
# runners; what they answer holds no agent's secret).
MAY_REFUSE = {"/api/attempts/{attempt_id}/rebase/conflicts", "/api/runners/{runner_id}"}

JUNIT = '<testsuite name="s" tests="1"><testcase classname="c" name="t"/></testsuite>'
SPEC = json.dumps(
    {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
)
SCRIPTS = {
    "unit_test": f"printf '%s' '{JUNIT}' > \"$JUNIT_OUTPUT\"",
    "openapi": f"printf '%s' '{SPEC}' > \"$OPENAPI_OUTPUT\"",
    "dev": 'exec python3 -m http.server "$PORT" --bind 127.0.0.1',
}
# The attempt's agent: says its secrets (the log redacts them), proves it had the marked one
# without writing it anywhere, leaves an artifact and a change, and lives long enough to be
# sampled (resource_usage).
AGENT = (
    'echo "marked=$MARKED_VALUE token=$API_TOKEN plain=$PLAIN"; '
    'printf %s "$MARKED_VALUE" | sha256sum | cut -d" " -f1 > proof.txt; '
    'echo "artifact text" > "$PADDOCK_ARTIFACTS/note.txt"; '
    "echo change >> out.txt; sleep 1"
)
STEP_AGENT = 'echo "step=$STEP_MARKED"; echo step >> out.txt; sleep 0.5'


def test_the_sweep_expects_every_event_of_the_catalogue() -> None:
    """A type added to the catalogue is added here too (and made to happen in `drive`)."""
    assert set(EventType) == EXPECTED_EVENTS | NEEDS_FORGE


def secret() -> str:
    return f"sweep-secret-{token()}{token()}"


@pytest.fixture(scope="module")
def planted() -> dict[str, str]:
    """Where each secret value was planted → the value."""
    return {
        "attempt env (marked secret)": secret(),
        "attempt env (API_TOKEN)": secret(),
        "workflow step agent env (marked secret)": secret(),
        "agent variant env (MY_API_KEY)": secret(),
        "app agent env (marked secret)": secret(),
        "settings anthropic_api_key": secret(),
        "settings openai_api_key": secret(),
        "settings gemini_api_key": secret(),
        "settings github_token": secret(),
        "settings gitlab_token": secret(),
        "settings gitea_token": secret(),
        "settings secret_key": secret(),
    }


@pytest.fixture(scope="module")
def server(host_dir: Path, planted: dict[str, str]) -> Iterator[ServerProcess]:
    """The data dir (worktrees) outside /tmp: a sandbox has a private /tmp."""
    env = {
        "PADDOCK_ANTHROPIC_API_KEY": planted["settings anthropic_api_key"],
        "PADDOCK_OPENAI_API_KEY": planted["settings openai_api_key"],
        "PADDOCK_GEMINI_API_KEY": planted["settings gemini_api_key"],
        "PADDOCK_GITHUB_TOKEN": planted["settings github_token"],
        "PADDOCK_GITLAB_TOKEN": planted["settings gitlab_token"],
        "PADDOCK_GITEA_TOKEN": planted["settings gitea_token"],
        "PADDOCK_SECRET_KEY": planted["settings secret_key"],
        "PADDOCK_SSE_HEARTBEAT_SECONDS": HEARTBEAT,
        "PADDOCK_STATS_INTERVAL_SECONDS": "0.2",
        "PADDOCK_DIFF_WATCH_SECONDS": "0.2",
        # The keys above are planted, not real: the builder asks its offline planner.
        "PADDOCK_BUILDER_PLANNER": "offline",
        "PADDOCK_BUILDER_SCREENSHOT": "false",
        "BUILDER_AGENT_DELAY": "0",
    }
    with ServerProcess(host_dir / "data", env=env) as srv:
        yield srv


def drive(server: ServerProcess, planted: dict[str, str], repo: Path) -> dict[str, list[str]]:
    """A project, a workflow step, a task and an attempt taken through turns, a follow-up, a
    step's automation, a test run, an API spec, a preview and a stop; the ids of all of it."""
    api = server.api
    project = api(
        "POST",
        "/api/projects",
        # bwrap measures what its processes use (resource_usage events); network host: the
        # dev server is reached without a bridge.
        json={
            "path": str(repo),
            "scripts": SCRIPTS,
            "sandbox": {"provider": "bwrap", "network": "host"},
        },
    )
    pid = project["id"]
    api("PATCH", f"/api/projects/{pid}", json={"name": "sweep project"})
    api(
        "PUT",
        "/api/agents/claude-code/variants/sweep",
        json={"env": {"MY_API_KEY": planted["agent variant env (MY_API_KEY)"]}},
    )
    step = api(
        "POST",
        f"/api/projects/{pid}/steps",
        json={
            "name": "Review",
            "automation": "run_agent",
            "prompt_template": "review {{ task_title }}",
            "agent": {
                "profile": "script",
                "command": STEP_AGENT,
                "env": {"STEP_MARKED": planted["workflow step agent env (marked secret)"]},
                "secret_env": ["STEP_MARKED"],
            },
        },
    )
    task = api("POST", f"/api/projects/{pid}/tasks", json={"title": "Sweep"})
    api("PATCH", f"/api/tasks/{task['id']}", json={"description": "look everywhere"})
    attempt = api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={
            "agent": {
                "profile": "script",
                "command": AGENT,
                "env": {
                    "MARKED_VALUE": planted["attempt env (marked secret)"],
                    "API_TOKEN": planted["attempt env (API_TOKEN)"],
                    "PLAIN": "plain-is-shown",
                },
                "secret_env": ["MARKED_VALUE"],
            }
        },
    )
    aid = attempt["id"]

    def idle() -> bool:
        return bool(api("GET", f"/api/attempts/{aid}")["status"] == "awaiting_review")

    def follow_ups() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = api("GET", f"/api/attempts/{aid}/follow-ups")
        return found

    wait_for(idle, 90)
    # The agent had the value (without it, the sweep would prove nothing).
    proof = (Path(attempt["worktree_path"]) / "proof.txt").read_text().strip()
    assert proof == hashlib.sha256(planted["attempt env (marked secret)"].encode()).hexdigest()

    # A follow-up, while the Diff is watched (attempt.diff_changed); then the workflow step's
    # automation runs its own agent as one more.
    with StreamReader(server, f"/api/attempts/{aid}/diff/stream", {}) as diff:
        api("POST", f"/api/attempts/{aid}/follow-ups", json={"prompt": "again"})
        wait_for(lambda: follow_ups()[-1]["status"] == "done", 60)
        wait_for(lambda: "event: diff_changed" in diff.text, 30)
    api("POST", f"/api/tasks/{task['id']}/move", json={"step_id": step["id"]})
    wait_for(lambda: len(follow_ups()) == 2 and follow_ups()[-1]["status"] == "done", 60)
    wait_for(idle, 60)
    run = api("POST", f"/api/attempts/{aid}/test-runs", json={"kind": "unit", "wait": True})
    api("POST", f"/api/attempts/{aid}/openapi")
    previews = api("POST", f"/api/attempts/{aid}/previews", json={"wait": True})
    api("POST", f"/api/attempts/{aid}/stop")

    processes = api("GET", f"/api/attempts/{aid}/processes", params={"include_dropped": True})
    artifacts = api("GET", f"/api/attempts/{aid}/artifacts")
    assert artifacts, "the agent's artifact was not kept: the sweep would miss its routes"
    return {
        **drive_app(server, planted),
        "project_id": [pid],
        "task_id": [task["id"]],
        "attempt_id": [aid],
        "step_id": [s["id"] for s in api("GET", f"/api/projects/{pid}/steps")],
        "process_id": [p["id"] for p in processes],
        "preview_id": [p["id"] for p in previews],
        "run_id": [run["id"]],
        "artifact_id": [a["id"] for a in artifacts],
        "name": sorted({a["name"] for a in artifacts} | {"claude-code", "script"}),
        "runner_id": ["0" * 32],
    }


def drive_app(server: ServerProcess, planted: dict[str, str]) -> dict[str, list[str]]:
    """The builder: an app whose agent holds a secret, built to v0.1 and rolled back (v0.2),
    its preview seen, a change asked for; the ids of its routes."""
    api = server.api
    agent = {
        "profile": "builder-demo",
        "env": {"APP_MARKED": planted["app agent env (marked secret)"]},
        "secret_env": ["APP_MARKED"],
    }
    app = api("POST", "/api/apps", json={"idea": "A page that lists our gigs", "agent": agent})
    answers = {"users": "fans", "features": "Next gigs", "non_goals": ""}
    api("POST", f"/api/apps/{app['id']}/answers", json={"answers": answers})
    api("POST", f"/api/apps/{app['id']}/plan")
    api("PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": "static-site"})
    build = api("POST", f"/api/apps/{app['id']}/builds", json={})

    def finished() -> dict[str, Any] | None:
        now: dict[str, Any] = api("GET", f"/api/builds/{build['id']}")
        return now if now["status"] in ("ready", "failed", "cancelled") else None

    ended = wait_for(finished, 120)
    assert ended and ended["status"] == "ready", ended
    api("POST", f"/api/apps/{app['id']}/versions/v0.1/rollback")
    # After the preview: the gate, a change being talked through, the chat's snapshot.
    api("POST", f"/api/apps/{app['id']}/preview-viewed")
    change = api("POST", f"/api/apps/{app['id']}/changes", json={"description": "Add a map"})
    api("POST", f"/api/apps/{app['id']}/chat/open")
    return {
        "app_id": [app["id"]],
        "build_id": [build["id"]],
        "change_id": [change["id"]],
        "version": ["v0.1", "v0.2"],
    }


def sweep(
    server: ServerProcess, ids: dict[str, list[str]], planted: dict[str, str]
) -> tuple[list[str], dict[str, list[int]]]:
    """Every GET route of the API and the UI with every id: where a secret showed, and the
    statuses each route answered."""
    params = {"path": "out.txt", "after": "0"}
    schema = server.api("GET", "/api/openapi.json")
    api_routes = sorted(path for path, ops in schema["paths"].items() if "get" in ops)
    answered: dict[str, list[int]] = {}
    found: list[str] = []
    for template in [*api_routes, "/api/openapi.json", *ui_get_routes()]:
        for path in filled(template, ids):
            status, text = fetch(server.client, path, params)
            answered.setdefault(template, []).append(status)
            found += [f"GET {path} ({status}): {where}" for where in leaks(text, planted)]
    return found, answered


def test_no_secret_value_in_any_response_or_event(
    server: ServerProcess, planted: dict[str, str], host_dir: Path
) -> None:
    planted = {**planted, "the API token": server.token}
    # after=0: replayed from the server's first event, so nothing before the connection is
    # missed.
    with StreamReader(server, "/api/events", {"after": 0}) as events:
        ids = drive(server, planted, make_repo(host_dir / "repo", {"README.md": "# sweep\n"}))
        found, answered = sweep(server, ids, planted)
        server.api("DELETE", f"/api/previews/{ids['preview_id'][0]}")
        # The rest of the life cycle: deleted, its events carry nothing either.
        for path in ("attempts/{attempt_id}", "tasks/{task_id}", "projects/{project_id}"):
            (url,) = filled(f"/api/{path}", ids)
            server.client.delete(url).raise_for_status()
        wait_for(lambda: "project.deleted" in events.types(), 10)

    assert events.error is None, events.error
    found += [f"/api/events: {where}" for where in leaks(events.text, planted)]
    assert not found, "secret values left the server:\n" + "\n".join(found)

    # The sweep saw what it had to see: every event type, every route answering.
    assert events.types() >= EXPECTED_EVENTS, EXPECTED_EVENTS - events.types()
    # ... and nothing outside the event catalogue, which this test covers whole.
    assert events.types() - {"sync"} <= set(EventType), events.types() - set(EventType)
    unanswered = [
        template
        for template, statuses in answered.items()
        if template not in MAY_REFUSE and not any(s < 400 for s in statuses)
    ]
    assert not unanswered, {t: answered[t] for t in unanswered}
    assert "plain-is-shown" in events.text  # a plain value is shown: the masking is targeted
