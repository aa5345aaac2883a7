"""Git inside a sandboxed agent turn: reading and `git add` work (a private index and object
store in the agent's HOME), committing does not (the repository is read-only), and Paddock's
auto-commit takes the turn's files from the real worktree."""

import subprocess
from pathlib import Path

from tests.e2e.server import ServerProcess
from tests.e2e.test_attempt_flow import agent_process, start_attempt
from tests.e2e.test_rewind import settle

AGENT = (
    "echo new > added.txt && git add added.txt && git status --short; "
    "git -c user.name=a -c user.email=a@a commit -qm mine; echo commit=$?"
)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_an_agent_stages_but_paddock_commits(server: ServerProcess, repo: Path) -> None:
    attempt = start_attempt(server, repo, AGENT)
    assert attempt["sandbox"]["provider"] == "bwrap"  # the default on this machine
    settle(server, attempt, 1)
    proc = agent_process(server, attempt["id"])
    assert proc["provider"] == "bwrap"
    lines = server.api("GET", f"/api/processes/{proc['id']}/logs")["lines"]
    texts = [line["text"] for line in lines]
    assert "A  added.txt" in texts  # staged in the private index
    assert "commit=128" in texts  # the agent's own commit was refused
    assert any("Read-only file system" in text for text in texts)

    worktree = Path(attempt["worktree_path"])
    assert git(worktree, "log", "-1", "--format=%s").startswith("agent: ")
    assert git(worktree, "show", "--name-only", "--format=", "HEAD") == "added.txt"
    assert git(worktree, "status", "--porcelain") == ""
    assert git(repo, "log", "--format=%s", attempt["branch"], "-2").endswith("init")
