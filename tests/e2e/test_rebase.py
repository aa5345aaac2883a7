"""Rebasing an attempt onto a base that moved on, with real repositories: through, stopped at a
conflict then continued, aborted, and resolved by the agent on request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, wait_for
from tests.e2e.test_merge import commit, git, merge, setup

# The script agent: its first turn changes app.txt; asked to resolve, it writes the resolution.
AGENT = (
    'case "$PADDOCK_PROMPT" in *"Resolve each conflict"*) echo resolved > app.txt ;; '
    "*) echo v2 > app.txt ;; esac"
)


def post(server: ServerProcess, attempt: dict[str, Any], path: str) -> Any:
    return server.client.post(f"/api/attempts/{attempt['id']}/rebase{path}")


def test_a_rebase_without_conflicts_makes_the_attempt_mergeable(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo, attempt = setup(server, tmp_path, AGENT)
    commit(repo, "other.txt", "meanwhile\n")
    assert merge(server, attempt).json()["code"] == "base_moved"
    answer = post(server, attempt, "")
    assert answer.status_code == 200, answer.text
    assert (
        answer.json()["conflicts"] == [] and answer.json()["attempt"]["status"] == "awaiting_review"
    )
    worktree = Path(attempt["worktree_path"])
    assert git(worktree, "merge-base", "HEAD", "main") == git(repo, "rev-parse", "main")
    assert merge(server, attempt).status_code == 200
    assert git(repo, "show", "main:app.txt") == "v2" and git(repo, "show", "main:other.txt")


def test_a_conflict_stops_the_rebase_until_it_is_resolved(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo, attempt = setup(server, tmp_path, AGENT)
    commit(repo, "app.txt", "v1 changed on main\n")
    answer = post(server, attempt, "")
    assert answer.status_code == 200, answer.text
    assert answer.json()["conflicts"] == ["app.txt"]
    stopped = answer.json()["attempt"]
    assert stopped["status"] == "conflicted" and "app.txt" in stopped["error"]
    assert server.api("GET", f"/api/attempts/{attempt['id']}/rebase/conflicts") == ["app.txt"]
    assert merge(server, attempt).json()["code"] == "attempt_busy"

    early = post(server, attempt, "/continue")
    assert early.status_code == 409 and early.json()["code"] == "conflicts_unresolved"
    worktree = Path(attempt["worktree_path"])
    (worktree / "app.txt").write_text("v2, and main's change\n")
    done = post(server, attempt, "/continue")
    assert done.status_code == 200, done.text
    assert done.json()["conflicts"] == [] and done.json()["attempt"]["status"] == "awaiting_review"
    assert git(worktree, "show", "HEAD:app.txt") == "v2, and main's change"
    assert git(worktree, "merge-base", "HEAD", "main") == git(repo, "rev-parse", "main")


def test_an_aborted_rebase_leaves_the_attempt_as_it_was(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo, attempt = setup(server, tmp_path, AGENT)
    worktree = Path(attempt["worktree_path"])
    head = git(worktree, "rev-parse", "HEAD")
    commit(repo, "app.txt", "v1 changed on main\n")
    assert post(server, attempt, "").json()["conflicts"] == ["app.txt"]
    aborted = post(server, attempt, "/abort")
    assert aborted.status_code == 200 and aborted.json()["status"] == "awaiting_review"
    assert git(worktree, "rev-parse", "HEAD") == head
    assert (worktree / "app.txt").read_text() == "v2\n"
    assert post(server, attempt, "/abort").json()["code"] == "no_rebase"


def test_the_agent_resolves_the_conflict_when_asked(server: ServerProcess, tmp_path: Path) -> None:
    repo, attempt = setup(server, tmp_path, AGENT)
    commit(repo, "app.txt", "v1 changed on main\n")
    assert post(server, attempt, "").json()["conflicts"] == ["app.txt"]
    worktree = Path(attempt["worktree_path"])
    follow_up = post(server, attempt, "/ask-agent")
    assert follow_up.status_code == 200, follow_up.text
    assert "app.txt" in follow_up.json()["prompt"]

    def back_to_conflicted() -> bool:
        now = server.api("GET", f"/api/attempts/{attempt['id']}")
        ups = server.api("GET", f"/api/attempts/{attempt['id']}/follow-ups")
        return now["status"] == "conflicted" and ups[0]["status"] == "done"

    wait_for(back_to_conflicted, 60)
    assert (worktree / "app.txt").read_text() == "resolved\n"
    done = post(server, attempt, "/continue")
    assert done.status_code == 200 and done.json()["attempt"]["status"] == "awaiting_review", (
        done.text
    )
    assert git(worktree, "show", "HEAD:app.txt") == "resolved"
    # The agent's turn was not committed mid-rebase: the rebase made the one commit.
    assert git(worktree, "rev-list", "--count", "main..HEAD") == "1"
