"""The bad-input corpus (issue 19): each class of bad input a user or an agent can give Paddock,
one row each, with the outcome it must get — a stable error code for what is refused, a status
(and the run's own code, where it has one) for what goes wrong inside a run.

After every row: the server is healthy, and nothing is lost — a canary project, its attempt and
its agent's log, made before the corpus runs, are unchanged. One server serves the whole table
(the rows make their own projects), so a row that breaks the server fails the rows after it too.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from paddock.runtime.proctree import find_tagged
from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_previews import STATIC, attempt_writing, project_with, start

# Dev servers get 3 s to answer: "never listens" fails in that time.
ENV = {"PADDOCK_PREVIEW_READY_TIMEOUT_S": "3", "PADDOCK_PREVIEW_IDLE_MINUTES": "0"}
TEN_MB = 10 * 1024 * 1024


@dataclass
class Corpus:
    server: ServerProcess
    root: Path
    made: int = 0

    def folder(self, name: str) -> Path:
        self.made += 1
        return self.root / f"{self.made}-{name}"

    def repo(self, name: str = "repo", files: dict[str, str] | None = None) -> Path:
        return make_repo(self.folder(name), files)

    def register(self, path: Path, **body: Any) -> httpx.Response:
        return self.server.client.post("/api/projects", json={"path": str(path), **body})

    def task(self, project: dict[str, Any], title: str = "Row") -> dict[str, Any]:
        task: dict[str, Any] = self.server.api(
            "POST", f"/api/projects/{project['id']}/tasks", json={"title": title}
        )
        return task

    def attempt(self, command: str, **scripts: str) -> dict[str, Any]:
        """An attempt of a new project whose agent runs `command`, once its turn has ended."""
        project = self.server.api(
            "POST", "/api/projects", json={"path": str(self.repo()), "scripts": scripts}
        )
        attempt = self.server.api(
            "POST",
            f"/api/tasks/{self.task(project)['id']}/attempts",
            json={"agent": {"profile": "script", "command": command}},
        )
        return self.settled(attempt["id"])

    def agent_log(self, attempt: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        agent = wait_for(lambda: self.agent(attempt))
        lines = self.server.api(
            "GET", f"/api/processes/{agent['id']}/logs", params={"limit": 10_000}
        )["lines"]
        return agent, [line["text"] for line in lines]

    def agent(self, attempt: dict[str, Any]) -> dict[str, Any] | None:
        procs = self.server.api("GET", f"/api/attempts/{attempt['id']}/processes")
        return next((p for p in procs if p["reason"] == "agent"), None)

    def settled(self, attempt_id: str) -> dict[str, Any]:
        busy = ("creating", "setting_up", "running")
        found: dict[str, Any] = wait_for(
            lambda: (
                (a := self.server.api("GET", f"/api/attempts/{attempt_id}"))["status"] not in busy
                and a
            ),
            60,
        )
        return found


def refused(response: httpx.Response) -> str:
    """An API refusal as "<status> <code>", with the body's promises checked."""
    body = response.json()
    assert set(body) >= {"code", "message"} and body["message"].strip(), body
    return f"{response.status_code} {body['code']}"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


# -- the rows -------------------------------------------------------------------------------------


def registered_twice(c: Corpus) -> str:
    repo = c.repo()
    assert c.register(repo).status_code == 201
    return refused(c.register(repo))


def unknown_ids(c: Corpus) -> str:
    """Every kind of id that names nothing: one code per kind, each a 404."""
    kinds = ("project", "task", "attempt", "process", "preview", "test_run")
    paths = ["/api/projects/nope", "/api/tasks/nope", "/api/attempts/nope"]
    paths += ["/api/processes/nope/logs", "/api/previews/nope", "/api/test-runs/nope"]
    codes = [refused(c.server.client.get(path)) for path in paths]
    assert codes == [f"404 {kind}_not_found" for kind in kinds], codes
    return refused(c.server.client.get("/api/no-such-route"))


def wrong_json_types(c: Corpus) -> str:
    project = c.server.api("POST", "/api/projects", json={"path": str(c.repo())})
    return refused(c.server.client.post(f"/api/projects/{project['id']}/tasks", json={"title": 5}))


def attempt_refused(agent: dict[str, Any], **body: Any) -> Callable[[Corpus], str]:
    """An attempt start that must be refused before anything is made."""

    def row(c: Corpus) -> str:
        repo = c.repo()
        git(repo, "branch", "taken")
        project = c.server.api("POST", "/api/projects", json={"path": str(repo)})
        task = c.task(project)
        response = c.server.client.post(
            f"/api/tasks/{task['id']}/attempts", json={"agent": agent, **body}
        )
        assert c.server.api("GET", f"/api/tasks/{task['id']}/attempts") == []
        assert git(repo, "branch", "--format=%(refname:short)").split() == ["main", "taken"]
        if response.status_code == 503:  # the message says how to install it
            assert f"paddock agents install {agent['profile']}" in response.json()["message"]
        return refused(response)

    return row


def missing_agent_cli() -> dict[str, str]:
    """A built-in agent whose CLI is neither installed by Paddock nor on PATH here."""
    absent = next(p for p in ("codex", "gemini", "aider", "claude") if not shutil.which(p))
    return {"profile": {"claude": "claude-code"}.get(absent, absent)}


def a_command_that_does_not_exist(c: Corpus) -> str:
    attempt = c.server.api("GET", f"/api/attempts/{c.attempt('./does-not-exist.sh')['id']}")
    agent = c.agent(attempt)
    assert agent is not None and agent["exit_code"] == 127 and agent["debug_id"], agent
    assert agent["debug_id"] in c.server.log() and attempt["debug_id"] == agent["debug_id"]
    return f"{attempt['status']}: {agent['error']}"


def non_git_folder(c: Corpus) -> str:
    plain = c.folder("plain")
    plain.mkdir()
    return refused(c.register(plain))


def empty_repo(c: Corpus) -> str:
    empty = c.folder("empty")
    git(empty.parent, "init", "-q", str(empty))
    return refused(c.register(empty))


def bare_repo(c: Corpus) -> str:
    bare = c.folder("bare")
    git(bare.parent, "init", "-q", "--bare", str(bare))
    return refused(c.register(bare))


def missing_path(c: Corpus) -> str:
    return refused(c.register(c.folder("nowhere")))


def relative_path(c: Corpus) -> str:
    return refused(c.server.client.post("/api/projects", json={"path": "some/where"}))


def detached_head_without_a_branch(c: Corpus) -> str:
    """A detached HEAD is taken when there is a main or master to branch from; here there is
    none (docs/api.md)."""
    repo = c.repo()
    git(repo, "checkout", "-q", "--detach")
    git(repo, "branch", "-q", "-m", "main", "feature")
    return refused(c.register(repo))


def detached_head_with_main(c: Corpus) -> str:
    repo = c.repo()
    git(repo, "checkout", "-q", "--detach")
    response = c.register(repo)
    assert response.status_code == 201, response.text
    return f"201 default_branch={response.json()['default_branch']}"


def unicode_and_spaces_in_paths(c: Corpus) -> str:
    repo = make_repo(c.folder("répertoire avec espaces ✓"), {"fiché tout.txt": "é\n"})
    project = c.register(repo).json()
    attempt = attempt_writing(c.server, project, "echo changé > 'fiché tout.txt'")
    done = c.server.api("GET", f"/api/attempts/{attempt['id']}")
    worktree = Path(done["worktree_path"])
    assert (worktree / "fiché tout.txt").read_text() == "changé\n"
    return done["status"]


def path_vanishing_mid_attempt(c: Corpus) -> str:
    """The agent's worktree is taken away under it while it runs (it goes on once its own
    marker is gone with it)."""
    project = c.server.api("POST", "/api/projects", json={"path": str(c.repo())})
    attempt = c.server.api(
        "POST",
        f"/api/tasks/{c.task(project)['id']}/attempts",
        json={
            "agent": {
                "profile": "script",
                "command": "touch started; while [ -e started ]; do sleep 0.05; done; "
                "echo still here > after.txt",
            }
        },
    )
    worktree = Path(attempt["worktree_path"])
    wait_for((worktree / "started").exists)
    subprocess.run(["rm", "-rf", str(worktree)], check=True)
    settled = c.settled(attempt["id"])
    assert settled["error"] == "the worktree is gone from disk" and settled["debug_id"]
    return str(settled["status"])


def branch_name(name: str) -> Callable[[Corpus], str]:
    def row(c: Corpus) -> str:
        project = c.server.api("POST", "/api/projects", json={"path": str(c.repo())})
        task = c.task(project)
        response = c.server.client.post(
            f"/api/tasks/{task['id']}/attempts",
            json={"agent": {"command": "true"}, "branch": name},
        )
        assert c.server.api("GET", f"/api/tasks/{task['id']}/attempts") == []
        return refused(response)

    row.__name__ = f"branch {name!r}"
    return row


def control_characters_in_a_title(c: Corpus) -> str:
    project = c.server.api("POST", "/api/projects", json={"path": str(c.repo())})
    return refused(
        c.server.client.post(
            f"/api/projects/{project['id']}/tasks", json={"title": "bell \x07 and \x1b[31m"}
        )
    )


def huge_description(c: Corpus) -> str:
    project = c.server.api("POST", "/api/projects", json={"path": str(c.repo())})
    return refused(
        c.server.client.post(
            f"/api/projects/{project['id']}/tasks",
            json={"title": "Huge", "description": "d" * (2 * 1024 * 1024)},
        )
    )


def ten_mb_log_line(c: Corpus) -> str:
    attempt = c.attempt(f"head -c {TEN_MB} /dev/zero | tr '\\0' x; echo; echo after")
    agent, texts = c.agent_log(attempt)
    assert "".join(t for t in texts if set(t) == {"x"}) == "x" * TEN_MB
    assert texts[-2:] == ["after", "exited with code 0"]
    # The download gives the line back whole, the way the program printed it.
    download = c.server.client.get(f"/api/processes/{agent['id']}/logs/download").text
    assert "\n" + "x" * TEN_MB + "\nafter\n" in download
    return f"process {agent['status']}"


def binary_output(c: Corpus) -> str:
    attempt = c.attempt("head -c 65536 /dev/urandom; echo; printf 'bad \\xff utf8\\n'; echo after")
    agent, texts = c.agent_log(attempt)
    assert "bad \ufffd utf8" in texts and texts[-2] == "after"
    return f"process {agent['status']}"


def junit(report: str) -> Callable[[Corpus], str]:
    def row(c: Corpus) -> str:
        attempt = c.attempt("true", unit_test=report)
        run = c.server.api(
            "POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit", "wait": True}
        )
        assert run["error"] and run["debug_id"], run
        return f"test run {run['status']} {run['error_code']}"

    return row


MALFORMED_JUNIT = "printf '<testsuites><testsuite name=\"x\"' > $JUNIT_OUTPUT"
# 17 MB: past the 16 MB a report may take (reports.max_mb).
HUGE_JUNIT = (
    "python3 -c \"import os; f = open(os.environ['JUNIT_OUTPUT'], 'w'); "
    "f.write('<testsuite>' + '<testcase name=\\\"c\\\"/>' * 700000 + '</testsuite>')\""
)


def dev_server(dev: str) -> Callable[[Corpus], str]:
    def row(c: Corpus) -> str:
        project = project_with(c.server, c.repo(files={"index.html": "hi\n"}), dev)
        [preview] = start(c.server, attempt_writing(c.server, project, "true"))
        if preview["status"] != "running":
            assert preview["error"] and preview["debug_id"], preview
        return f"preview {preview['status']}"

    return row


def busy_attempt(c: Corpus) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(project, attempt, agent process) of an attempt whose agent runs on and on."""
    project = c.server.api("POST", "/api/projects", json={"path": str(c.repo())})
    attempt = c.server.api(
        "POST",
        f"/api/tasks/{c.task(project)['id']}/attempts",
        json={"agent": {"profile": "script", "command": "echo busy; sleep 600"}},
    )
    wait_for(lambda: c.agent_log(attempt)[1][-1:] == ["busy"])
    return project, attempt, c.agent_log(attempt)[0]


def deleting_a_project_mid_run(c: Corpus) -> str:
    project, attempt, agent = busy_attempt(c)
    response = c.server.client.delete(f"/api/projects/{project['id']}")
    # Refused while it has attempts: the running one goes on, untouched.
    assert c.server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "running"
    assert find_tagged(agent["id"])
    c.server.api("POST", f"/api/attempts/{attempt['id']}/stop")
    return refused(response)


def deleting_an_attempt_mid_run(c: Corpus) -> str:
    _project, attempt, agent = busy_attempt(c)
    response = c.server.client.delete(f"/api/attempts/{attempt['id']}")
    assert response.status_code < 300, response.text
    # Its agent was stopped, and nothing of it is left.
    assert not find_tagged(agent["id"]) and not Path(attempt["worktree_path"]).exists()
    return refused(c.server.client.get(f"/api/attempts/{attempt['id']}"))


def concurrent_merges(c: Corpus) -> str:
    """Two attempts of one project merged at the same moment: one lands, the other is told
    why not; main gets exactly one of them."""
    repo = c.repo()
    project = c.server.api("POST", "/api/projects", json={"path": str(repo)})
    attempts = [
        attempt_writing(c.server, project, f"echo {name} > {name}.txt") for name in ("one", "two")
    ]
    before = git(repo, "rev-parse", "main")
    answers: list[httpx.Response] = []

    def merge(attempt: dict[str, Any]) -> None:
        with httpx.Client(base_url=c.server.url, headers=c.server.auth, timeout=60) as client:
            answers.append(client.post(f"/api/attempts/{attempt['id']}/merge", json={}))

    threads = [threading.Thread(target=merge, args=(a,)) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409], [a.text for a in answers]
    landed = git(repo, "rev-list", "--count", f"{before}..main")
    assert landed == "1" and git(repo, "status", "--porcelain") == ""
    return refused(next(a for a in answers if a.status_code == 409))


ROWS: list[tuple[str, Callable[[Corpus], str], str]] = [
    ("non-git folder", non_git_folder, "422 not_a_git_repo"),
    ("registering a project twice", registered_twice, "409 project_exists"),
    ("unknown ids and routes", unknown_ids, "404 not_found"),
    ("wrong JSON types", wrong_json_types, "422 validation_error"),
    (
        "an agent without its command",
        attempt_refused({"profile": "script"}),
        "422 agent_command_missing",
    ),
    ("an unknown agent", attempt_refused({"profile": "gpt-9"}), "422 unknown_agent"),
    (
        "an unknown variant",
        attempt_refused({"profile": "script", "command": "true", "variant": "turbo"}),
        "422 unknown_variant",
    ),
    ("an agent CLI not installed", attempt_refused(missing_agent_cli()), "503 agent_not_installed"),
    (
        "a base branch that does not exist",
        attempt_refused({"command": "true"}, base_branch="nope"),
        "422 unknown_ref",
    ),
    (
        "a branch name taken",
        attempt_refused({"command": "true"}, branch="taken"),
        "409 branch_exists",
    ),
    (
        "a command that does not exist",
        a_command_that_does_not_exist,
        "failed: exited with code 127 (command not found)",
    ),
    ("empty repository", empty_repo, "422 no_commits"),
    ("bare repository", bare_repo, "422 bare_repo"),
    ("missing path", missing_path, "422 path_missing"),
    ("relative path", relative_path, "422 path_not_absolute"),
    ("detached HEAD, no main or master", detached_head_without_a_branch, "422 detached_head"),
    ("detached HEAD, with main", detached_head_with_main, "201 default_branch=main"),
    ("unicode and spaces in paths", unicode_and_spaces_in_paths, "awaiting_review"),
    ("a worktree vanishing mid-attempt", path_vanishing_mid_attempt, "vanished"),
    ("branch HEAD", branch_name("HEAD"), "422 bad_branch_name"),
    ("branch refs/heads/x", branch_name("refs/heads/x"), "422 bad_branch_name"),
    ("branch -f", branch_name("-f"), "422 bad_branch_name"),
    ("branch a..b", branch_name("a..b"), "422 bad_branch_name"),
    ("control characters in a title", control_characters_in_a_title, "422 bad_title"),
    ("a 2 MB description", huge_description, "422 description_too_large"),
    ("a 10 MB log line", ten_mb_log_line, "process succeeded"),
    ("binary output", binary_output, "process succeeded"),
    ("malformed JUnit", junit(MALFORMED_JUNIT), "test run error report_invalid"),
    ("huge JUnit", junit(HUGE_JUNIT), "test run error report_too_large"),
    ("a dev server that never listens", dev_server("echo warming up; sleep 600"), "preview failed"),
    ("a dev server that dies", dev_server("echo 'cannot find vite' >&2; exit 3"), "preview failed"),
    (
        "a dev server on a taken port",
        dev_server(
            "if [ ! -e .tried ]; then touch .tried; echo 'Error: listen EADDRINUSE: address "
            "already in use 127.0.0.1:'$PORT >&2; exit 1; fi; " + STATIC
        ),
        "preview running",
    ),
    ("deleting a project mid-run", deleting_a_project_mid_run, "409 project_has_attempts"),
    ("deleting an attempt mid-run", deleting_an_attempt_mid_run, "404 attempt_not_found"),
    ("concurrent merges", concurrent_merges, "409 base_moved"),
]


# -- the table ------------------------------------------------------------------------------------


@dataclass
class Canary:
    project: dict[str, Any]
    attempt: dict[str, Any]
    log: list[str]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Corpus, Canary]]:
    root = tmp_path_factory.mktemp("corpus")
    with ServerProcess(root / "data", env=ENV) as server:
        c = Corpus(server, root)
        attempt = c.attempt("for i in $(seq 1 50); do echo canary $i; done; echo ok > canary.txt")
        project = server.api("GET", f"/api/projects/{attempt['project_id']}")
        yield c, Canary(project, attempt, c.agent_log(attempt)[1])


@pytest.mark.parametrize(("name", "row", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_bad_input(
    corpus: tuple[Corpus, Canary], name: str, row: Callable[[Corpus], str], expected: str
) -> None:
    c, canary = corpus
    assert row(c) == expected, name
    # The server is healthy, and nothing of the canary is lost.
    assert c.server.api("GET", "/api/health")["status"] == "ok"
    assert c.server.api("GET", f"/api/projects/{canary.project['id']}") == canary.project
    attempt = c.server.api("GET", f"/api/attempts/{canary.attempt['id']}")
    assert attempt["status"] == "awaiting_review"
    assert (Path(attempt["worktree_path"]) / "canary.txt").read_text() == "ok\n"
    assert c.agent_log(canary.attempt)[1] == canary.log
