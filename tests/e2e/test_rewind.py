"""Rewind through the real server: the worktree goes back to before a turn, that turn and later
ones are dropped (hidden unless asked for), ignored files survive, the main checkout is never
touched, and what cannot be rewound is refused with a clear code."""

import subprocess
from pathlib import Path

from tests.e2e.server import ServerProcess, make_repo, wait_for

# Each turn appends its prompt (stdin) to turns.txt and writes a file named after it; the turn
# "wait" holds until a gate file GO appears in the worktree, so a test can act while it runs.
AGENT = (
    'read -r prompt; echo "turn: $prompt" >> turns.txt; echo "$prompt" > "$prompt.txt"; '
    'if [ "$prompt" = "wait" ]; then while [ ! -f GO ]; do sleep 0.05; done; fi'
)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def start(server: ServerProcess, repo: Path, title: str = "first", setup: str = "") -> dict:
    # The gate file lives in the worktree (a sandbox sees nothing else), ignored by git.
    (repo / ".git" / "info" / "exclude").write_text("GO\n")
    body = {"path": str(repo), "scripts": {"setup": setup}}
    project = server.api("POST", "/api/projects", json=body)
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": title})
    return server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": AGENT}}
    )


def follow_up(server: ServerProcess, attempt: dict, prompt: str) -> dict:
    return server.api("POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": prompt})


def settle(server: ServerProcess, attempt: dict, turns: int) -> list[dict]:
    """Wait until `turns` agent turns ran and the attempt is idle; its processes."""

    def done() -> list[dict] | None:
        procs = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
        state = server.api("GET", f"/api/attempts/{attempt['id']}")["status"]
        finished = [p for p in procs if p["status"] == "succeeded" and p["commit_after"]]
        return procs if state == "awaiting_review" and len(finished) >= turns else None

    return wait_for(done)


def rewind(server: ServerProcess, attempt: dict, process_id: str):
    return server.client.post(
        f"/api/attempts/{attempt['id']}/rewind", json={"process_id": process_id}
    )


def test_rewind_drops_the_turn_and_later_ones(server: ServerProcess, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {".gitignore": "deps/\n", "README.md": "# r\n"})
    (repo / "local-change.txt").write_text("the user's own work in progress\n")
    attempt = start(server, repo)
    worktree = Path(attempt["worktree_path"])
    settle(server, attempt, 1)
    follow_up(server, attempt, "second")
    follow_up(server, attempt, "third")
    first, second, third = settle(server, attempt, 3)
    (worktree / "deps").mkdir()
    (worktree / "deps" / "lib.js").write_text("installed dependency\n")  # ignored: kept
    (worktree / "scratch.txt").write_text("untracked\n")  # untracked: removed

    response = rewind(server, attempt, second["id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "awaiting_review"

    assert (worktree / "turns.txt").read_text() == "turn: first\n"
    assert not (worktree / "second.txt").exists() and not (worktree / "third.txt").exists()
    assert not (worktree / "scratch.txt").exists()
    assert (worktree / "deps" / "lib.js").read_text() == "installed dependency\n"
    assert git(worktree, "rev-parse", "HEAD") == second["commit_before"] == first["commit_after"]
    assert git(worktree, "status", "--porcelain") == ""
    # The main checkout and its uncommitted change are untouched.
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert (repo / "local-change.txt").read_text() == "the user's own work in progress\n"

    kept = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    assert [p["id"] for p in kept] == [first["id"]]
    everything = server.api(
        "GET", f"/api/attempts/{attempt['id']}/processes", params={"include_dropped": "true"}
    )
    assert [(p["id"], p["dropped"]) for p in everything] == [
        (first["id"], False),
        (second["id"], True),
        (third["id"], True),
    ]

    # The next turn starts from the rewound worktree.
    follow_up(server, attempt, "fourth")
    settle(server, attempt, 2)
    assert (worktree / "turns.txt").read_text() == "turn: first\nturn: fourth\n"


def test_rewind_to_the_first_turn_restores_the_base(server: ServerProcess, repo: Path) -> None:
    attempt = start(server, repo)
    (first,) = settle(server, attempt, 1)
    worktree = Path(attempt["worktree_path"])
    assert rewind(server, attempt, first["id"]).status_code == 200
    assert git(worktree, "rev-parse", "HEAD") == attempt["base_commit"]
    assert not (worktree / "turns.txt").exists()
    assert server.api("GET", f"/api/attempts/{attempt['id']}/processes") == []


def test_rewind_refusals(server: ServerProcess, repo: Path) -> None:
    attempt = start(server, repo, title="wait", setup="echo set up")
    worktree = Path(attempt["worktree_path"])
    running = wait_for(
        lambda: next(
            (
                p
                for p in server.api("GET", f"/api/attempts/{attempt['id']}/processes")
                if p["reason"] == "agent" and p["status"] == "running"
            ),
            None,
        )
    )
    busy = rewind(server, attempt, running["id"])
    assert (busy.status_code, busy.json()["code"]) == (409, "attempt_busy")
    assert "stop it" in busy.json()["message"]
    (worktree / "GO").write_text("")  # ignored: never committed
    setup, agent = settle(server, attempt, 1)

    not_a_turn = rewind(server, attempt, setup["id"])
    assert (not_a_turn.status_code, not_a_turn.json()["code"]) == (422, "not_an_agent_turn")
    unknown = rewind(server, attempt, "0" * 32)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "process_not_found")

    other = start(server, make_repo(repo.parent / "other", {"a.txt": "a\n"}), title="other")
    (elsewhere,) = settle(server, other, 1)
    foreign = rewind(server, attempt, elsewhere["id"])
    assert (foreign.status_code, foreign.json()["code"]) == (422, "process_not_in_attempt")
    # Nothing was dropped by the refused requests.
    assert [p["id"] for p in server.api("GET", f"/api/attempts/{attempt['id']}/processes")] == [
        setup["id"],
        agent["id"],
    ]
