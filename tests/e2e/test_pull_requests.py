"""Pull requests through the real server: with a `gh` on PATH (a test double that records its
arguments), and through a forge's REST API (a test double of GitHub's and GitLab's, on
loopback). The branch is really pushed to a bare remote on disk first."""

from __future__ import annotations

import json
import stat
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_merge import git

# A stand-in for GitHub's CLI: it logs each call and answers like gh does.
FAKE_GH = """#!/usr/bin/env python3
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[:2] == ["auth", "status"]:
    sys.exit(0)
if args[:2] == ["pr", "create"]:
    print("https://github.com/o/r/pull/7")
    sys.exit(0)
if args[:2] == ["pr", "view"]:
    print(json.dumps({"state": open(os.path.join(here, "state")).read().strip()}))
    sys.exit(0)
sys.exit(2)
"""


# A stand-in for GitLab's CLI, the same way.
FAKE_GLAB = """#!/usr/bin/env python3
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[:2] == ["auth", "status"]:
    sys.exit(0)
if args[:2] == ["mr", "create"]:
    print("Creating merge request...\\nhttps://gitlab.example/grp/app/-/merge_requests/4")
    sys.exit(0)
if args[:2] == ["mr", "view"]:
    print(json.dumps({"state": "merged"}))
    sys.exit(0)
sys.exit(2)
"""


def tool_dir(tmp_path: Path, name: str, script: str) -> Path:
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    tool = tools / name
    tool.write_text(script)
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return tools


def remote_for(repo: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    return remote


def started(server: ServerProcess, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    repo = make_repo(tmp_path / "repo", {"app.txt": "v1\n"})
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api(
        "POST",
        f"/api/projects/{project['id']}/tasks",
        json={"title": "Page", "description": "Make the page say v2."},
    )
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": "echo v2 > app.txt"}},
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    return repo, attempt


def step_of(server: ServerProcess, attempt: dict[str, Any]) -> str:
    task = server.api("GET", f"/api/tasks/{attempt['task_id']}")
    steps = server.api("GET", f"/api/projects/{task['project_id']}/steps")
    return next(s["name"] for s in steps if s["id"] == task["step_id"])


def test_gh_opens_it_and_its_merge_moves_the_task_to_done(tmp_path: Path) -> None:
    tools = tool_dir(tmp_path, "gh", FAKE_GH)
    (tools / "state").write_text("OPEN\n")
    env = {"PATH": f"{tools}:/usr/local/bin:/usr/bin:/bin"}
    with ServerProcess(tmp_path / "data", env=env) as server:
        repo, attempt = started(server, tmp_path)
        remote = remote_for(repo, tmp_path)
        pull = server.api(
            "POST",
            f"/api/attempts/{attempt['id']}/pull-requests",
            json={"forge": "github", "repo": "o/r"},
        )
        assert (pull["number"], pull["url"], pull["via"]) == (
            7,
            "https://github.com/o/r/pull/7",
            "gh",
        )
        assert pull["status"] == "open"
        assert git(remote, "rev-parse", attempt["branch"])  # pushed before it was opened
        calls = [json.loads(line) for line in (tools / "calls.jsonl").read_text().splitlines()]
        create = next(c for c in calls if c[:2] == ["pr", "create"])
        given = dict(zip(create[2::2], create[3::2], strict=False))
        assert given["--repo"] == "o/r" and given["--head"] == attempt["branch"]
        assert given["--base"] == "main" and given["--title"] == "Page"
        assert "Make the page say v2." in given["--body"] and "Opened by Paddock" in given["--body"]

        (tools / "state").write_text("MERGED\n")
        refreshed = server.api("POST", f"/api/pull-requests/{pull['id']}/refresh")
        assert refreshed["status"] == "merged"
        assert step_of(server, attempt) == "Done"
        assert (
            server.api("GET", f"/api/attempts/{attempt['id']}/pull-requests")[0]["status"]
            == "merged"
        )


class FakeForge(BaseHTTPRequestHandler):
    """GitHub's and GitLab's pull request endpoints, as far as Paddock uses them."""

    calls: list[dict[str, Any]]

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        payload = json.loads(self.rfile.read(length))
        self.calls.append({"path": self.path, "headers": dict(self.headers), "json": payload})
        if self.path == "/repos/o/r/pulls":
            if self.headers.get("authorization") != "Bearer gh-token":
                self._answer(401, {"message": "Bad credentials"})
                return
            self._answer(201, {"number": 12, "html_url": "https://github.com/o/r/pull/12"})
        elif self.path == "/repos/g/t/pulls":  # Gitea
            if self.headers.get("authorization") != "token gt-token":
                self._answer(401, {"message": "token is required"})
                return
            self._answer(201, {"number": 5, "html_url": "https://git.example/g/t/pulls/5"})
        elif self.path == "/projects/grp%2Fapp/merge_requests":
            self._answer(
                201, {"iid": 3, "web_url": "https://gitlab.example/grp/app/-/merge_requests/3"}
            )
        else:
            self._answer(404, {"message": "no"})

    def do_GET(self) -> None:
        self.calls.append({"path": self.path, "headers": dict(self.headers)})
        if self.path == "/repos/o/r/pulls/12":
            self._answer(200, {"state": "closed", "merged": True})
        elif self.path == "/repos/g/t/pulls/5":
            self._answer(200, {"state": "closed", "merged": False})
        else:
            self._answer(404, {"message": "no"})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def forge() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    calls: list[dict[str, Any]] = []
    handler = type("Handler", (FakeForge,), {"calls": calls})
    http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}", calls
    finally:
        http.shutdown()


def test_the_rest_apis_open_and_read_them(
    tmp_path: Path, forge: tuple[str, list[dict[str, Any]]]
) -> None:
    url, calls = forge
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",  # no gh, no glab
        "PADDOCK_GITHUB_TOKEN": "gh-token",
        "PADDOCK_GITHUB_API_URL": url,
        "PADDOCK_GITLAB_TOKEN": "gl-token",
        "PADDOCK_GITLAB_API_URL": url,
    }
    with ServerProcess(tmp_path / "data", env=env) as server:
        repo, attempt = started(server, tmp_path)
        remote_for(repo, tmp_path)
        path = f"/api/attempts/{attempt['id']}/pull-requests"
        github = server.api("POST", path, json={"forge": "github", "repo": "o/r", "title": "T"})
        assert (github["number"], github["via"]) == (12, "api")
        sent = next(c for c in calls if c["path"] == "/repos/o/r/pulls")
        assert sent["json"]["head"] == attempt["branch"] and sent["json"]["base"] == "main"
        assert sent["json"]["title"] == "T"
        merged = server.api("POST", f"/api/pull-requests/{github['id']}/refresh")
        assert merged["status"] == "merged" and step_of(server, attempt) == "Done"

        gitlab = server.api("POST", path, json={"forge": "gitlab", "repo": "grp/app"})
        assert gitlab["number"] == 3 and gitlab["url"].endswith("/merge_requests/3")
        sent = next(c for c in calls if c["path"].startswith("/projects/"))
        assert sent["headers"]["PRIVATE-TOKEN"] == "gl-token"
        assert sent["json"]["source_branch"] == attempt["branch"]


def test_no_way_to_the_forge_is_said_plainly(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", env={"PATH": "/usr/local/bin:/usr/bin:/bin"}) as server:
        repo, attempt = started(server, tmp_path)
        remote_for(repo, tmp_path)
        path = f"/api/attempts/{attempt['id']}/pull-requests"
        refused = server.client.post(path, json={"forge": "gitea", "repo": "o/r"})
        assert refused.status_code == 503 and refused.json()["code"] == "no_forge_access"
        local = server.client.post(path, json={})
        assert local.status_code == 422 and local.json()["code"] == "forge_unknown"


def test_glab_opens_a_merge_request(tmp_path: Path) -> None:
    tools = tool_dir(tmp_path, "glab", FAKE_GLAB)
    env = {"PATH": f"{tools}:/usr/local/bin:/usr/bin:/bin"}
    with ServerProcess(tmp_path / "data", env=env) as server:
        repo, attempt = started(server, tmp_path)
        remote_for(repo, tmp_path)
        pull = server.api(
            "POST",
            f"/api/attempts/{attempt['id']}/pull-requests",
            json={"forge": "gitlab", "repo": "grp/app"},
        )
        assert (pull["number"], pull["via"]) == (4, "glab")
        calls = [json.loads(line) for line in (tools / "calls.jsonl").read_text().splitlines()]
        create = next(c for c in calls if c[:2] == ["mr", "create"])
        assert create[create.index("--source-branch") + 1] == attempt["branch"]
        assert create[create.index("--target-branch") + 1] == "main"
        assert server.api("POST", f"/api/pull-requests/{pull['id']}/refresh")["status"] == "merged"


def test_giteas_api_opens_one_and_a_closed_one_is_not_done(
    tmp_path: Path, forge: tuple[str, list[dict[str, Any]]]
) -> None:
    url, _ = forge
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PADDOCK_GITEA_TOKEN": "gt-token",
        "PADDOCK_GITEA_API_URL": url,
    }
    with ServerProcess(tmp_path / "data", env=env) as server:
        repo, attempt = started(server, tmp_path)
        remote_for(repo, tmp_path)
        path = f"/api/attempts/{attempt['id']}/pull-requests"
        pull = server.api("POST", path, json={"forge": "gitea", "repo": "g/t"})
        assert (pull["number"], pull["forge"]) == (5, "gitea")
        closed = server.api("POST", f"/api/pull-requests/{pull['id']}/refresh")
        assert closed["status"] == "closed" and step_of(server, attempt) != "Done"
