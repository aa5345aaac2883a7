"""Workflow steps through the real server: columns made, changed, reordered and deleted; a
card moved through steps whose automations run in its one attempt, kept out of a gated step
until its e2e tests pass."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, make_repo, wait_for

# The script agent: what it does depends on the prompt the step gave it.
AGENT = """
case "$PADDOCK_PROMPT" in
  "Write a spec"*) echo "Greet Ada by name." > SPEC.md; echo "spec: greet Ada by name" ;;
  "Implement"*) sed -i 's/Hello</Hello, Bob</' index.html; echo "greeting added" ;;
  "Fix"*) sed -i 's/Bob/Ada/' index.html; echo "fixed the name" ;;
esac
"""

# An e2e suite that asks the preview (through the proxy, with the run's key) for its page.
E2E = """
import os, urllib.request
from xml.sax.saxutils import quoteattr
request = urllib.request.Request(
    os.environ["PREVIEW_FALLBACK_URL"],
    headers={"X-Paddock-Preview-Key": os.environ["PADDOCK_PREVIEW_KEY"]},
)
page = urllib.request.urlopen(request).read().decode()
ok = "Hello, Ada" in page
case = "" if ok else f"<failure message={quoteattr('no greeting for Ada in ' + page.strip())}/>"
with open(os.environ["JUNIT_OUTPUT"], "w") as fh:
    fh.write(f'<testsuite name="shop"><testcase name="greets Ada">{case}</testcase></testsuite>')
"""


def project_and_task(server: ServerProcess, repo: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    scripts = {
        "dev": "python3 -m http.server $PORT --bind 127.0.0.1",
        "e2e_test": f"{sys.executable} e2e.py",
    }
    project = server.api("POST", "/api/projects", json={"path": str(repo), "scripts": scripts})
    task = server.api(
        "POST",
        f"/api/projects/{project['id']}/tasks",
        json={"title": "Greeting", "description": "Say hello to the user"},
    )
    return project, task


def steps_of(server: ServerProcess, project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in server.api("GET", f"/api/projects/{project['id']}/steps")}


def move(server: ServerProcess, task: dict[str, Any], step: dict[str, Any], **body: Any) -> Any:
    return server.client.post(f"/api/tasks/{task['id']}/move", json={"step_id": step["id"], **body})


def latest_move(server: ServerProcess, task: dict[str, Any]) -> dict[str, Any]:
    """The task's newest move once its automation has been started."""
    moves = wait_for(
        lambda: (m := server.api("GET", f"/api/tasks/{task['id']}/moves")) and m[-1]["ran"] and m,
        timeout=30,
    )
    last: dict[str, Any] = moves[-1]
    return last


def idle(server: ServerProcess, attempt_id: str) -> dict[str, Any]:
    attempt: dict[str, Any] = wait_for(
        lambda: (
            (a := server.api("GET", f"/api/attempts/{attempt_id}"))["status"] == "awaiting_review"
            and a
        ),
        timeout=60,
    )
    return attempt


def follow_up_done(server: ServerProcess, attempt_id: str, follow_up_id: str) -> dict[str, Any]:
    """The follow-up once its turn ended, and the attempt idle again."""
    wait_for(
        lambda: any(
            f["id"] == follow_up_id and f["status"] == "done"
            for f in server.api("GET", f"/api/attempts/{attempt_id}/follow-ups")
        ),
        timeout=60,
    )
    return idle(server, attempt_id)


def finished_run(server: ServerProcess, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = wait_for(
        lambda: (
            (r := server.api("GET", f"/api/test-runs/{run_id}")["run"])["status"] != "running" and r
        ),
        timeout=60,
    )
    return run


def make_steps(server: ServerProcess, project: dict[str, Any]) -> list[dict[str, Any]]:
    """Refine (the script agent writes a spec), Build (the attempt's agent implements it), QA
    (e2e tests) after To do, and a gate on Done: e2e tests must pass."""
    agent = {"profile": "script", "command": AGENT}
    base = f"/api/projects/{project['id']}/steps"
    refine = server.api(
        "POST",
        base,
        json={
            "name": "Refine",
            "position": 1,
            "color": "#7c3aed",
            "agent": agent,
            "automation": "run_agent",
            "prompt_template": "Write a spec for {{ task_title }}: {{ task_description }}",
        },
    )
    build = server.api(
        "POST",
        base,
        json={
            "name": "Build",
            "position": 2,
            "automation": "run_agent",
            "prompt_template": "Implement it. The spec says: {{ previous_summary }}",
        },
    )
    qa = server.api("POST", base, json={"name": "QA", "position": 3, "automation": "run_e2e_tests"})
    steps = steps_of(server, project)
    assert [s["name"] for s in steps.values()][:5] == [
        "To do",
        "Refine",
        "Build",
        "QA",
        "In progress",
    ]
    done = server.api("PATCH", f"/api/steps/{steps['Done']['id']}", json={"gate": ["e2e"]})
    assert done["gate"] == ["e2e"]
    return [refine, build, qa, done]


def test_a_card_through_refine_build_qa_and_a_gated_done(server: ServerProcess, tmp_path: Path):
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>Hello</h1>\n", "e2e.py": E2E})
    project, task = project_and_task(server, repo)
    refine, build, qa, done = make_steps(server, project)

    # Refine: the task has no attempt; the step's agent starts one with the step's prompt.
    assert move(server, task, refine).status_code == 200
    refined = latest_move(server, task)
    attempt_id = refined["attempt_id"]
    assert refined["automation"] == "run_agent" and refined["ran"] == attempt_id
    attempt = idle(server, attempt_id)
    assert attempt["prompt"] == "Write a spec for Greeting: Say hello to the user"
    worktree = Path(attempt["worktree_path"])
    assert (worktree / "SPEC.md").read_text() == "Greet Ada by name.\n"

    # Build: the same attempt's agent (Build names none) gets the previous turn's summary.
    assert move(server, task, build).status_code == 200
    built = latest_move(server, task)
    assert built["attempt_id"] == attempt_id
    follow_up_done(server, attempt_id, built["ran"])
    [follow_up] = server.api("GET", f"/api/attempts/{attempt_id}/follow-ups")
    assert follow_up["status"] == "done"
    assert follow_up["id"] == built["ran"] and follow_up["step_id"] == build["id"]
    assert follow_up["prompt"] == "Implement it. The spec says: spec: greet Ada by name"
    assert "Hello, Bob" in (worktree / "index.html").read_text()

    # QA: entering it runs the e2e tests against the attempt's preview; they fail.
    assert move(server, task, qa).status_code == 200
    run = finished_run(server, latest_move(server, task)["ran"])
    assert run["status"] == "failed", run["error"]
    assert run["attempt_id"] == attempt_id
    [failure] = server.api("GET", f"/api/test-runs/{run['id']}")["failures"]
    assert "no greeting for Ada" in failure["message"]

    # Done is gated: refused while the latest e2e run failed.
    refused = move(server, task, done)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "gate_failed"
    assert [(f["kind"], f["test_run_id"]) for f in body["failing"]] == [("e2e", run["id"])]
    assert server.api("GET", f"/api/tasks/{task['id']}")["step_id"] == qa["id"]
    no_reason = move(server, task, done, force=True)
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"

    # A follow-up fixes it; the old failure (and then a stale pass) still keep it out.
    fix = server.api(
        "POST", f"/api/attempts/{attempt_id}/follow-ups", json={"prompt": "Fix the name"}
    )
    follow_up_done(server, attempt_id, fix["id"])
    assert move(server, task, done).status_code == 409
    rerun = server.api(
        "POST", f"/api/attempts/{attempt_id}/test-runs", json={"kind": "e2e", "wait": True}
    )
    assert rerun["status"] == "passed", rerun
    accepted = move(server, task, done)
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["step_id"] == done["id"]

    # One attempt carries the whole trail.
    reasons = [p["reason"] for p in server.api("GET", f"/api/attempts/{attempt_id}/processes")]
    assert [r for r in reasons if r != "dev_server"] == [
        "agent",
        "follow_up",
        "e2e_test",
        "follow_up",
        "e2e_test",
    ]
    assert len(server.api("GET", f"/api/tasks/{task['id']}/attempts")) == 1
    history = server.api("GET", f"/api/tasks/{task['id']}/moves")
    assert [m["to_step_id"] for m in history] == [
        refine["id"],
        build["id"],
        qa["id"],
        done["id"],
    ]
    assert not any(m["forced"] for m in history)


def test_a_forced_move_is_recorded_with_what_failed(server: ServerProcess, tmp_path: Path):
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>Hello</h1>\n", "e2e.py": E2E})
    project, task = project_and_task(server, repo)
    steps = steps_of(server, project)
    server.api("PATCH", f"/api/steps/{steps['In review']['id']}", json={"gate": ["unit", "e2e"]})
    refused = move(server, task, steps["In review"])
    assert refused.status_code == 409
    assert [f["kind"] for f in refused.json()["failing"]] == ["unit", "e2e"]
    assert "have not run" in refused.json()["message"]
    forced = move(server, task, steps["In review"], force=True, reason="reviewed by hand")
    assert forced.status_code == 200
    [record] = server.api("GET", f"/api/tasks/{task['id']}/moves")
    assert record["forced"] and record["reason"] == "reviewed by hand"
    assert [f["kind"] for f in record["failing"]] == ["unit", "e2e"]
    # The board's PATCH is a move too: the gate holds there as well.
    back = server.client.patch(f"/api/tasks/{task['id']}", json={"step_id": steps["To do"]["id"]})
    assert back.status_code == 200
    again = server.client.patch(
        f"/api/tasks/{task['id']}", json={"step_id": steps["In review"]["id"], "title": "Renamed"}
    )
    assert again.status_code == 409 and again.json()["code"] == "gate_failed"


def test_steps_are_made_changed_reordered_and_deleted(server: ServerProcess, tmp_path: Path):
    project, task = project_and_task(server, make_repo(tmp_path / "repo"))
    base = f"/api/projects/{project['id']}/steps"
    steps = steps_of(server, project)
    ids = [s["id"] for s in steps.values()]
    reordered = server.api("POST", f"{base}/reorder", json={"step_ids": list(reversed(ids))})
    assert [s["id"] for s in reordered] == list(reversed(ids))
    assert [s["position"] for s in reordered] == [0, 1, 2, 3, 4]
    bad = server.client.post(f"{base}/reorder", json={"step_ids": ids[:-1]})
    assert bad.status_code == 409 and bad.json()["code"] == "bad_step_order"

    renamed = server.api(
        "PATCH", f"/api/steps/{ids[1]}", json={"name": "Doing", "color": "#FF0000"}
    )
    assert (renamed["name"], renamed["color"]) == ("Doing", "#ff0000")
    for change, code in (
        ({"color": "red"}, "bad_color"),
        ({"name": "  "}, "bad_step_name"),
        ({"prompt_template": "Do {{ nonsense }}"}, "bad_prompt_template"),
        ({"agent": {"profile": "no-such-agent"}}, None),
    ):
        response = server.client.patch(f"/api/steps/{ids[1]}", json=change)
        assert response.status_code in (404, 422), (change, response.text)
        if code:
            assert response.json()["code"] == code
    assert server.client.patch(f"/api/steps/{ids[1]}", json={"gate": ["smoke"]}).status_code == 422

    # The task's step holds a card: deleting it needs a target.
    holding = task["step_id"]
    refused = server.client.delete(f"/api/steps/{holding}")
    assert refused.status_code == 409 and refused.json()["code"] == "step_has_tasks"
    assert (
        server.client.delete(f"/api/steps/{holding}", params={"move_tasks_to": holding}).json()[
            "code"
        ]
        == "bad_target_step"
    )
    moved = server.api("DELETE", f"/api/steps/{holding}", params={"move_tasks_to": ids[1]})
    assert moved == {"tasks_moved": 1}
    assert server.api("GET", f"/api/tasks/{task['id']}")["step_id"] == ids[1]
    assert len(server.api("GET", base)) == 4
    assert server.client.get(f"/api/steps/{holding}").json()["code"] == "step_not_found"

    # A task's own prompt for a step.
    path = f"/api/tasks/{task['id']}/step-prompts/{ids[1]}"
    assert server.client.put(path, json={"prompt": "Only {{ task_title }}"}).status_code == 204
    assert server.api("GET", f"/api/tasks/{task['id']}/step-prompts") == {
        ids[1]: "Only {{ task_title }}"
    }
    assert server.client.put(path, json={"prompt": "{{ oops }}"}).status_code == 422
    assert server.client.delete(path).status_code == 204
    assert server.api("GET", f"/api/tasks/{task['id']}/step-prompts") == {}
