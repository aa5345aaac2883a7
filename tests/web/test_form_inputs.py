"""One input model per action (paddock/inputs): the UI's form and the API's JSON body of the
same action, sent the same values with spaces around them through the real server, store the
same thing; a blank required field is refused with the same code through both."""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_previews import attempt_writing

HTMX = {"HX-Request": "true"}  # the UI's forms post through htmx
# What differs between two records made the same way: who they are and when.
IDENTITY = {"id", "created_at", "updated_at", "position"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("form-inputs") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def project(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = make_repo(tmp_path_factory.mktemp("repo") / "repo")
    created: dict[str, Any] = server.api("POST", "/api/projects", json={"path": str(repo)})
    return created


def form(server: ServerProcess, path: str, data: dict[str, Any]) -> httpx.Response:
    response = server.client.post(path, data=data, headers=HTMX)
    assert response.status_code < 300, (response.status_code, response.text)
    return response


def triggered(response: httpx.Response, event: str) -> str:
    """The id an htmx answer names in its HX-Trigger event (the event's value, or its `id`)."""
    value = json.loads(response.headers["HX-Trigger"])[event]
    found: str = value["id"] if isinstance(value, dict) else value
    return found


def redirected_id(response: httpx.Response) -> str:
    return response.headers["HX-Redirect"].rsplit("/", 1)[-1]


def same(record: dict[str, Any], *, ignore: set[str] = IDENTITY) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in ignore}


def code(response: httpx.Response) -> str:
    assert response.status_code == 422, (response.status_code, response.text)
    found: str = response.json()["code"]
    return found


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


# --- tasks --------------------------------------------------------------------------------------


def test_a_task_made_and_edited_by_the_form_is_the_one_the_api_makes(
    server: ServerProcess, project: dict[str, Any]
) -> None:
    pid = project["id"]
    todo, doing = (s["id"] for s in server.api("GET", f"/api/projects/{pid}/steps")[:2])
    values = {"title": "  Spaced  title  ", "description": "  kept as typed\n", "step_id": doing}

    made = form(server, f"/ui/projects/{pid}/tasks", values)
    by_form = server.api("GET", f"/api/tasks/{triggered(made, 'taskCreated')}")
    by_api = server.api("POST", f"/api/projects/{pid}/tasks", json=values)
    assert same(by_form) == same(by_api)
    assert by_api["title"] == "Spaced  title"  # spaces around dropped, inside kept
    assert by_api["description"] == "  kept as typed\n"  # free text: exactly as given

    edit = {"title": "\t Renamed \n", "description": " new text ", "step_id": f" {todo} "}
    form(server, f"/ui/tasks/{by_form['id']}", edit)
    server.api("PATCH", f"/api/tasks/{by_api['id']}", json=edit)
    edited_by_form = server.api("GET", f"/api/tasks/{by_form['id']}")
    edited_by_api = server.api("GET", f"/api/tasks/{by_api['id']}")
    assert same(edited_by_form) == same(edited_by_api)
    assert edited_by_api["title"] == "Renamed" and edited_by_api["step_id"] == todo


# --- projects -----------------------------------------------------------------------------------


def test_a_project_registered_and_changed_by_the_form_is_the_one_the_api_makes(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "parity")
    values = {"path": f"  {repo}  ", "name": "  Parity  "}
    made = form(server, "/ui/projects", values)
    by_form = server.api("GET", f"/api/projects/{redirected_id(made)}")
    server.api("DELETE", f"/api/projects/{by_form['id']}")  # the same repository, again
    by_api = server.api("POST", "/api/projects", json=values)
    assert same(by_form) == same(by_api)
    assert by_api["name"] == "Parity" and by_api["repo_path"] == str(repo)

    baseline = {
        "name": "Baseline",
        "scripts": dict.fromkeys(["setup", "dev", "cleanup", "unit_test", "e2e_test"], "x"),
        "copy_files": ["old"],
        "sandbox": {"provider": "auto"},
    }
    scripts = {"setup": "  ./setup.sh \n", "dev": "\tnpm run dev  ", "cleanup": "   "}
    settings_form = {
        "name": "  Renamed  ",
        "default_branch": " main ",
        **{f"script_{key}": value for key, value in scripts.items()},
        "script_unit_test": "",
        "script_e2e_test": "",
        "script_openapi": "",
        "copy_files": "  .env \n\n  config/*.json  \n",
        "sandbox_provider": "none",
        "sandbox_network": "",
        "sandbox_memory_mb": " 256 ",
        "sandbox_image": "  ",
    }
    body = {
        "name": "  Renamed  ",
        "default_branch": " main ",
        "scripts": {**scripts, "unit_test": "", "e2e_test": "", "openapi": ""},
        "copy_files": ["  .env ", "", "  config/*.json  "],
        "sandbox": {
            "provider": "none",
            "network": None,
            "limits": {"memory_mb": 256},
            "image": " ",
        },
    }
    server.api("PATCH", f"/api/projects/{by_api['id']}", json=baseline)
    form(server, f"/ui/projects/{by_api['id']}/settings", settings_form)
    changed_by_form = server.api("GET", f"/api/projects/{by_api['id']}")
    server.api("PATCH", f"/api/projects/{by_api['id']}", json=baseline)
    changed_by_api = server.api("PATCH", f"/api/projects/{by_api['id']}", json=body)
    assert same(changed_by_form) == same(changed_by_api)
    assert changed_by_api["name"] == "Renamed"
    assert changed_by_api["scripts"]["dev"] == "npm run dev"
    assert changed_by_api["scripts"]["cleanup"] == "" and changed_by_api["scripts"]["setup"]
    assert changed_by_api["copy_files"] == [".env", "config/*.json"]
    assert changed_by_api["sandbox"]["limits"]["memory_mb"] == 256
    assert changed_by_api["sandbox"]["image"] is None  # blank: Paddock's base image


# --- attempts and follow-ups --------------------------------------------------------------------

# The script agent appends each turn's prompt (its stdin) to a file in the worktree.
AGENT = 'read -r prompt; echo "turn: $prompt" >> turns.txt'


def test_an_attempt_and_a_follow_up_from_the_forms_are_the_ones_the_api_makes(
    server: ServerProcess, project: dict[str, Any]
) -> None:
    pid = project["id"]
    task = server.api("POST", f"/api/projects/{pid}/tasks", json={"title": "Parity attempt"})
    made = form(
        server,
        f"/ui/tasks/{task['id']}/attempts",
        {
            "profile": " script ",
            "variant": "  ",
            "command": f"  {AGENT}  ",
            "prompt": "  first  ",
            "base_branch": " main ",
            "env": "PLAIN=visible\n",
            "secret_env": "MARKED=hush-hush\n",
            "sandbox_provider": "",
            "sandbox_timeout_s": " 120 ",
        },
    )
    body = {
        "agent": {
            "profile": " script ",
            "variant": "  ",
            "command": f"  {AGENT}  ",
            "env": {"PLAIN": "visible", "MARKED": "hush-hush"},
            "secret_env": ["MARKED"],
        },
        "prompt": "  first  ",
        "base_branch": " main ",
        "sandbox": {"limits": {"timeout_s": 120}},
    }
    by_api = server.api("POST", f"/api/tasks/{task['id']}/attempts", json=body)
    # The new attempt opens beside the board: its id in the answer's HX-Trigger.
    by_form = server.api("GET", f"/api/attempts/{triggered(made, 'attemptStarted')}")
    kept = ["agent", "prompt", "base_branch", "base_commit", "sandbox", "scripts"]
    assert {k: by_form[k] for k in kept} == {k: by_api[k] for k in kept}
    assert by_api["agent"]["variant"] == "default" and by_api["agent"]["command"] == AGENT
    assert by_api["prompt"] == "first" and by_api["base_branch"] == "main"

    for attempt in (by_form, by_api):
        wait_for(
            lambda a=attempt: (
                server.api("GET", f"/api/attempts/{a['id']}")["status"] == "awaiting_review"
            )
        )
    form(server, f"/ui/attempts/{by_form['id']}/follow-ups", {"prompt": "  second  "})
    server.api("POST", f"/api/attempts/{by_api['id']}/follow-ups", json={"prompt": "  second  "})

    def queue(attempt: dict[str, Any]) -> list[dict[str, Any]]:
        follow_ups: list[dict[str, Any]] = server.api(
            "GET", f"/api/attempts/{attempt['id']}/follow-ups"
        )
        return follow_ups

    for attempt in (by_form, by_api):
        wait_for(lambda a=attempt: [f["status"] for f in queue(a)] == ["done"])
    ignore = {"id", "attempt_id", "process_id", "created_at"}
    assert [same(f, ignore=ignore) for f in queue(by_form)] == [
        same(f, ignore=ignore) for f in queue(by_api)
    ]
    assert queue(by_api)[0]["prompt"] == "second"
    for attempt in (by_form, by_api):
        turns = (Path(attempt["worktree_path"]) / "turns.txt").read_text()
        assert turns == "turn: first\nturn: second\n"

    # A blank prompt: the same refusal through both doors.
    for blank in ("", "   "):
        refused_form = server.client.post(
            f"/ui/attempts/{by_form['id']}/follow-ups", data={"prompt": blank}, headers=HTMX
        )
        refused_api = server.client.post(
            f"/api/attempts/{by_api['id']}/follow-ups", json={"prompt": blank}
        )
        assert code(refused_form) == code(refused_api) == "empty_prompt"


# --- workflow steps -----------------------------------------------------------------------------


def test_a_step_made_and_changed_by_the_forms_is_the_one_the_api_makes(
    server: ServerProcess, project: dict[str, Any]
) -> None:
    pid = project["id"]
    values = {"name": "  Review  ", "color": " #AABBCC "}
    made = form(server, f"/ui/projects/{pid}/steps", values)
    by_api = server.api("POST", f"/api/projects/{pid}/steps", json=values)
    by_form = server.api("GET", f"/api/steps/{triggered(made, 'stepAdded')}")
    assert same(by_form) == same(by_api)
    assert by_api["name"] == "Review" and by_api["color"] == "#aabbcc"

    head = {"name": "  Second look ", "color": "#112233"}
    form(server, f"/ui/steps/{by_form['id']}", head)
    server.api("PATCH", f"/api/steps/{by_api['id']}", json=head)
    template = "  Look at {{ task_title }} again\n"
    form(
        server,
        f"/ui/steps/{by_form['id']}/settings",
        {
            "agent": "script/default",
            "command": "  echo reviewed  ",
            "prompt_template": template,
            "automation": "run_agent",
            "gate": ["unit", "e2e"],
        },
    )
    server.api(
        "PATCH",
        f"/api/steps/{by_api['id']}",
        json={
            "agent": {"profile": "script", "variant": "default", "command": "  echo reviewed  "},
            "prompt_template": template,
            "automation": "run_agent",
            "gate": ["unit", "e2e"],
        },
    )
    changed_by_form = server.api("GET", f"/api/steps/{by_form['id']}")
    changed_by_api = server.api("GET", f"/api/steps/{by_api['id']}")
    assert same(changed_by_form) == same(changed_by_api)
    assert changed_by_api["name"] == "Second look"
    assert changed_by_api["agent"]["command"] == "echo reviewed"
    assert changed_by_api["prompt_template"] == template  # a template is kept as written

    # "Nothing" and no boxes: the API's null automation and empty gate.
    cleared = {"agent": "", "command": "", "prompt_template": "", "automation": ""}
    form(server, f"/ui/steps/{by_form['id']}/settings", cleared)
    server.api(
        "PATCH",
        f"/api/steps/{by_api['id']}",
        json={"agent": None, "prompt_template": "", "automation": None, "gate": []},
    )
    cleared_by_form = server.api("GET", f"/api/steps/{by_form['id']}")
    assert same(cleared_by_form) == same(server.api("GET", f"/api/steps/{by_api['id']}"))
    assert cleared_by_form["agent"] is None and cleared_by_form["gate"] == []


# --- merge and push -----------------------------------------------------------------------------


def _landing(server: ServerProcess, root: Path) -> tuple[Path, Path, dict[str, Any]]:
    """A repository with a bare remote, and an attempt that changed a file."""
    # Its folder names the project: one per side.
    repo = make_repo(root / f"{root.name}-repo", {"app.txt": "v1\n", "README.md": "# r\n"})
    remote = root / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    return repo, remote, attempt_writing(server, project, "echo v2 > app.txt")


def test_a_push_and_a_merge_from_the_forms_do_what_the_api_does(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo_f, remote_f, by_form = _landing(server, tmp_path / "form")
    repo_a, remote_a, by_api = _landing(server, tmp_path / "api")

    form(server, f"/ui/attempts/{by_form['id']}/push", {"remote": "  origin  "})
    server.api("POST", f"/api/attempts/{by_api['id']}/push", json={"remote": "  origin  "})
    for remote, attempt in ((remote_f, by_form), (remote_a, by_api)):
        head = git(Path(attempt["worktree_path"]), "rev-parse", "HEAD")
        assert git(remote, "rev-parse", attempt["branch"]) == head

    message = "  Land the change  "
    # The tab's boxes show the settings' defaults: an unchecked one is sent as nothing.
    form(
        server,
        f"/ui/attempts/{by_form['id']}/merge",
        {"strategy": "squash", "message": message, "remove_worktree": "true"},
    )
    server.api(
        "POST",
        f"/api/attempts/{by_api['id']}/merge",
        json={
            "strategy": "squash",
            "message": message,
            "remove_worktree": True,
            "delete_branch": False,
        },
    )
    merged_by_form = server.api("GET", f"/api/attempts/{by_form['id']}")
    merged_by_api = server.api("GET", f"/api/attempts/{by_api['id']}")
    landed = {"strategy", "into"}
    assert {k: merged_by_form["merged"][k] for k in landed} == {
        k: merged_by_api["merged"][k] for k in landed
    }
    for repo, attempt in ((repo_f, merged_by_form), (repo_a, merged_by_api)):
        assert git(repo, "log", "-1", "--format=%s", "main") == "Land the change"
        assert not Path(attempt["worktree_path"]).exists()  # removed, as asked
        assert git(repo, "branch", "--list", attempt["branch"])  # kept: the box was unchecked
        assert git(repo, "show", "main:app.txt") == "v2"


def test_a_commit_and_a_discard_from_the_diff_tab_do_what_the_api_does(
    server: ServerProcess, tmp_path: Path
) -> None:
    _, _, by_form = _landing(server, tmp_path / "commit-form")
    _, _, by_api = _landing(server, tmp_path / "commit-api")
    for attempt in (by_form, by_api):
        Path(attempt["worktree_path"], "notes.md").write_text("notes\n")

    blank = server.client.post(
        f"/ui/attempts/{by_form['id']}/commit", data={"message": "  "}, headers=HTMX
    )
    assert code(blank) == "empty_commit_message"
    form(server, f"/ui/attempts/{by_form['id']}/commit", {"message": "  My notes \n"})
    server.api("POST", f"/api/attempts/{by_api['id']}/commit", json={"message": "  My notes \n"})
    for attempt in (by_form, by_api):
        worktree = Path(attempt["worktree_path"])
        assert git(worktree, "log", "-1", "--format=%B") == "My notes"
        (worktree / "app.txt").write_text("scratch\n")

    form(server, f"/ui/attempts/{by_form['id']}/discard", {})
    server.api("POST", f"/api/attempts/{by_api['id']}/discard")
    for attempt in (by_form, by_api):
        assert Path(attempt["worktree_path"], "app.txt").read_text() == "v2\n"
    again = server.client.post(f"/ui/attempts/{by_form['id']}/discard", headers=HTMX)
    assert (again.status_code, again.json()["code"]) == (409, "nothing_to_discard")


# --- agent variants -----------------------------------------------------------------------------


def script_variants(server: ServerProcess) -> dict[str, dict[str, Any]]:
    profile = next(p for p in server.api("GET", "/api/agents") if p["name"] == "script")
    return {variant["name"]: variant for variant in profile["variants"]}


def test_a_variant_saved_by_the_form_is_the_one_the_api_saves(server: ServerProcess) -> None:
    def saved(variant: str) -> dict[str, Any]:
        return script_variants(server)[variant]

    def stored_env(variant: str) -> dict[str, str]:
        overrides = tomllib.loads((server.data_dir / "agents.toml").read_text())
        env: dict[str, str] = overrides["script"]["variants"][variant]["env"]
        return env

    fields = {"model": "  fast-1  ", "permission": "plan", "extra_args": "--quiet  -v"}
    form(
        server,
        "/ui/agents/script/variants",
        {**fields, "variant": " by-form ", "env": "MY_API_KEY=real-secret\nLEVEL=2"},
    )
    body = {
        **fields,
        "extra_args": ["--quiet", "-v"],
        "env": {"MY_API_KEY": "real-secret", "LEVEL": "2"},
    }
    server.api("PUT", "/api/agents/script/variants/by-api", json=body)
    assert same(saved("by-form"), ignore={"name"}) == same(saved("by-api"), ignore={"name"})
    assert saved("by-api")["model"] == "fast-1"
    assert saved("by-api")["env"] == {"MY_API_KEY": "********", "LEVEL": "2"}

    # Sent back as both show it, masked: the stored secret stays, through either door.
    form(
        server,
        "/ui/agents/script/variants",
        {**fields, "variant": "by-form", "env": "MY_API_KEY=********\nLEVEL=3"},
    )
    masked = {**body, "env": {"MY_API_KEY": "********", "LEVEL": "3"}}
    server.api("PUT", "/api/agents/script/variants/by-api", json=masked)
    assert (
        stored_env("by-form") == stored_env("by-api") == {"MY_API_KEY": "real-secret", "LEVEL": "3"}
    )

    # An environment variable's name follows one rule; the form's line reader says it first,
    # in the form's words (which line, what it expected).
    refused_form = server.client.post(
        "/ui/agents/script/variants",
        data={"variant": "bad", "env": "NOT-A-NAME=1"},
        headers=HTMX,
    )
    refused_api = server.client.put(
        "/api/agents/script/variants/bad", json={"env": {"NOT-A-NAME": "1"}}
    )
    assert code(refused_form) == "bad_env_line" and code(refused_api) == "validation_error"
    assert "bad" not in script_variants(server)


# --- blank required fields ----------------------------------------------------------------------


def test_a_blank_or_missing_required_field_is_refused_alike(
    server: ServerProcess, project: dict[str, Any]
) -> None:
    pid = project["id"]
    task = server.api("POST", f"/api/projects/{pid}/tasks", json={"title": "Blank fields"})
    step = server.api("POST", f"/api/projects/{pid}/steps", json={"name": "Blank fields"})
    attempt_of = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": "true"}}
    )
    cases = [
        # (the form's path, the API's method and path, the values, the code both answer)
        (f"/ui/projects/{pid}/tasks", "POST", f"/api/projects/{pid}/tasks", {"title": " "}),
        (f"/ui/tasks/{task['id']}", "PATCH", f"/api/tasks/{task['id']}", {"title": "\t"}),
        (f"/ui/projects/{pid}/steps", "POST", f"/api/projects/{pid}/steps", {"name": "  "}),
        (f"/ui/steps/{step['id']}", "PATCH", f"/api/steps/{step['id']}", {"name": " "}),
        (f"/ui/projects/{pid}/settings", "PATCH", f"/api/projects/{pid}", {"name": "  "}),
        ("/ui/projects", "POST", "/api/projects", {"path": "   "}),
        # Left out altogether: the model's own refusal, through both.
        (f"/ui/projects/{pid}/tasks", "POST", f"/api/projects/{pid}/tasks", {}),
        (f"/ui/attempts/{attempt_of['id']}/rewind", "POST", "/api/attempts/x/rewind", {}),
        (f"/ui/attempts/{attempt_of['id']}/test-runs", "POST", "/api/attempts/x/test-runs", {}),
    ]
    answers = {}
    for form_path, method, api_path, values in cases:
        by_form = server.client.post(form_path, data=values, headers=HTMX)
        by_api = server.client.request(method, api_path, json=values)
        answers[form_path, json.dumps(values)] = (code(by_form), code(by_api))
    assert answers == {
        (f"/ui/projects/{pid}/tasks", '{"title": " "}'): ("bad_title", "bad_title"),
        (f"/ui/tasks/{task['id']}", '{"title": "\\t"}'): ("bad_title", "bad_title"),
        (f"/ui/projects/{pid}/steps", '{"name": "  "}'): ("bad_step_name", "bad_step_name"),
        (f"/ui/steps/{step['id']}", '{"name": " "}'): ("bad_step_name", "bad_step_name"),
        (f"/ui/projects/{pid}/settings", '{"name": "  "}'): ("bad_name", "bad_name"),
        ("/ui/projects", '{"path": "   "}'): ("path_not_absolute", "path_not_absolute"),
        (f"/ui/projects/{pid}/tasks", "{}"): ("validation_error", "validation_error"),
        (f"/ui/attempts/{attempt_of['id']}/rewind", "{}"): (
            "validation_error",
            "validation_error",
        ),
        (f"/ui/attempts/{attempt_of['id']}/test-runs", "{}"): (
            "validation_error",
            "validation_error",
        ),
    }
    # Nothing was made or changed by a refusal.
    assert server.api("GET", f"/api/tasks/{task['id']}")["title"] == "Blank fields"
    assert server.api("GET", f"/api/projects/{pid}")["name"] == project["name"]


def test_a_form_refusal_names_its_field_and_words_it_as_the_api_does(
    server: ServerProcess, project: dict[str, Any]
) -> None:
    pid = project["id"]
    by_form = server.client.post(f"/ui/projects/{pid}/tasks", data={}, headers=HTMX)
    by_api = server.client.post(f"/api/projects/{pid}/tasks", json={})
    form_body, api_body = by_form.json(), by_api.json()
    assert form_body["field"] == "title"
    assert (
        form_body["message"] == api_body["message"] == "invalid request: body.title: Field required"
    )
    assert form_body["details"] == api_body["details"]
