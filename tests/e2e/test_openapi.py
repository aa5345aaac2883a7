"""API docs per attempt through the real server: a FastAPI app's spec made by the openapi
script or asked of its running preview, validated, kept, and compared with the base branch's."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, make_repo, wait_for

BASE_APP = """
from fastapi import FastAPI

app = FastAPI(title="Shop", version="1.0")


@app.get("/items")
def list_items() -> list[str]:
    return ["apple"]


@app.get("/items/{item_id}")
def get_item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@app.delete("/items/{item_id}")
def delete_item(item_id: int) -> None:
    return None
"""

# What the attempt's agent makes of it: one endpoint more, one less, one changed.
NEW_APP = """
from fastapi import FastAPI

app = FastAPI(title="Shop", version="1.1")


@app.get("/items")
def list_items() -> list[str]:
    return ["apple"]


@app.post("/items")
def add_item(name: str) -> dict[str, str]:
    return {"name": name}


@app.get("/items/{item_id}")
def get_item(item_id: int, verbose: bool = False) -> dict[str, int]:
    return {"id": item_id}
"""

SPEC_SCRIPT = (
    f"{sys.executable} -c 'import json, os, app; "
    'json.dump(app.app.openapi(), open(os.environ["OPENAPI_OUTPUT"], "w"))\''
)
SERVE = f"{sys.executable} -m uvicorn app:app --host 127.0.0.1 --port $PORT"


def attempt_with(server: ServerProcess, repo: Path, agent: str, **scripts: str) -> dict[str, Any]:
    project = server.api("POST", "/api/projects", json={"path": str(repo), "scripts": scripts})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Items"})
    attempt: dict[str, Any] = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": agent}}
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review",
        60,
    )
    return attempt


def writes(path: str, text: str) -> str:
    return f"printf %s {shlex.quote(text)} > {path}"


def test_the_spec_from_the_script_and_its_diff_with_the_base(server: ServerProcess, tmp_path: Path):
    repo = make_repo(tmp_path / "repo", {"app.py": BASE_APP})
    attempt = attempt_with(server, repo, writes("app.py", NEW_APP), openapi=SPEC_SCRIPT)
    path = f"/api/attempts/{attempt['id']}/openapi"
    missing = server.client.get(path)
    assert missing.status_code == 404 and missing.json()["code"] == "spec_not_found"

    made = server.api("POST", path)
    assert (made["title"], made["version"], made["endpoints"]) == ("Shop", "1.1", 3)
    assert made["source"] == "script" and made["artifact"]["kind"] == "openapi"
    document = server.api("GET", path)
    assert set(document["paths"]) == {"/items", "/items/{item_id}"}
    assert server.api("GET", f"{path}/info")["artifact"]["id"] == made["artifact"]["id"]

    comparison = server.api("GET", f"{path}/diff")
    diff = comparison["diff"]
    assert [(e["method"], e["path"]) for e in diff["added"]] == [("POST", "/items")]
    assert [(e["method"], e["path"]) for e in diff["removed"]] == [("DELETE", "/items/{item_id}")]
    [changed] = diff["changed"]
    assert (changed["method"], changed["path"]) == ("GET", "/items/{item_id}")
    assert "parameter `verbose` (query) added" in changed["changes"]
    assert (diff["base_version"], diff["head_version"]) == ("1.0", "1.1")
    base_head = (repo / ".git" / "refs" / "heads" / "main").read_text().strip()
    assert comparison["base_commit"] == base_head

    # The base's spec was made once, in a checkout of the merge-base, and is kept.
    processes = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    assert [p["reason"] for p in processes].count("openapi") == 2
    again = server.api("GET", f"{path}/diff")
    assert again["diff"] == diff
    processes = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    assert [p["reason"] for p in processes].count("openapi") == 2
    leftovers = server.data_dir / "worktrees" / "openapi-base"
    assert not leftovers.exists() or not any(leftovers.iterdir())


def test_the_spec_from_the_running_preview(server: ServerProcess, tmp_path: Path):
    repo = make_repo(tmp_path / "repo", {"app.py": BASE_APP})
    attempt = attempt_with(server, repo, "true", dev=SERVE)
    path = f"/api/attempts/{attempt['id']}/openapi"
    refused = server.client.post(path)
    assert refused.status_code == 409 and refused.json()["code"] == "preview_not_running"

    server.api("POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True})
    made = server.api("POST", path)
    assert made["source"] == "preview" and made["endpoints"] == 3
    assert made["artifact"]["process_id"] is None
    no_base = server.client.get(f"{path}/diff")
    assert no_base.status_code == 409 and no_base.json()["code"] == "no_base_spec"


INVALID = json.dumps({"openapi": "3.0.3", "paths": {}})
OUTSIDE = json.dumps(
    {
        "openapi": "3.0.3",
        "info": {"title": "x", "version": "1"},
        "paths": {"/": {"$ref": "file:///etc/passwd"}},
    }
)


def test_specs_that_do_not_validate_are_refused(server: ServerProcess, tmp_path: Path):
    for number, (spec, reason) in enumerate(
        # jsonschema quotes the name as 'info' or, from 4.26 on, "info".
        ((INVALID, 'info" is a required property'), (OUTSIDE, "refers outside itself"))
    ):
        repo = make_repo(tmp_path / f"repo{number}")
        attempt = attempt_with(server, repo, "true", openapi=writes("$OPENAPI_OUTPUT", spec))
        response = server.client.post(f"/api/attempts/{attempt['id']}/openapi")
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "spec_invalid"
        message = response.json()["message"].replace("'info'", '"info"')
        assert reason in message
        assert "root:" not in response.json()["message"]  # /etc/passwd was never read
        kept = server.client.get(f"/api/attempts/{attempt['id']}/openapi")
        assert kept.status_code == 404  # an invalid spec never becomes the attempt's spec

    repo = make_repo(tmp_path / "silent")
    attempt = attempt_with(server, repo, "true", openapi="echo no spec")
    response = server.client.post(f"/api/attempts/{attempt['id']}/openapi")
    assert (response.status_code, response.json()["code"]) == (422, "spec_missing")
    failing = attempt_with(server, make_repo(tmp_path / "failing"), "true", openapi="exit 4")
    response = server.client.post(f"/api/attempts/{failing['id']}/openapi")
    assert response.status_code == 500 and response.json()["code"] == "openapi_script_failed"
    assert response.json()["debug_id"] in server.log()
