"""Shared steps of the end-to-end tests that run a real agent CLI through the real server
(tests/e2e/test_real_*.py) against the fake model of tests/agents."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any

from paddock.domain.entries import error_reason
from tests.agents.conftest import AGENTS_CACHE
from tests.e2e.server import ServerProcess, free_port, wait_for

TITLE = "Say hello in a file"  # the task's title: the first turn's prompt
FOLLOW_UP = "And now?"
SUMMARY = "Wrote hello.txt\n\nIt greets whoever reads it."  # the agent's last words of a turn
TURN_TIMEOUT = 180  # generous: a CLI's start-up alone can take seconds on a busy machine


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def agent_server(data: Path, env: dict[str, str]) -> ServerProcess:
    """The real server, finding the CLIs in the tests' cache; `env`: keys and base URLs."""
    # Network "host": the sandboxed CLIs must reach the fake model on the host's loopback, which
    # the default network ("private") never reaches.
    host = {"PADDOCK_SANDBOX_NETWORK": "host"}
    # No safe.directory from tests/conftest.py: a real server has none, and git refuses it the
    # worktrees its sandbox user owns unless Paddock names them safe itself.
    git = {"GIT_CONFIG_COUNT": "0"}
    return ServerProcess(data, env={"PADDOCK_AGENTS_DIR": str(AGENTS_CACHE), **host, **git, **env})


def unreachable_url(path: str = "") -> str:
    """A base URL where nothing listens (a port that was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}{path}"


def add_variant(data: Path, profile: str, name: str, settings: str) -> None:
    """A user-defined variant in the data dir's agents.toml, e.g. settings 'model = "x"'."""
    data.mkdir(parents=True, exist_ok=True)
    with (data / "agents.toml").open("a") as fh:
        fh.write(f"[{profile}.variants.{name}]\n{settings}\n")


def start_attempt(
    server: ServerProcess, repo: Path, profile: str, variant: str = "default"
) -> dict[str, Any]:
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": TITLE})
    attempt: dict[str, Any] = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": profile, "variant": variant}},
    )
    return attempt


def settled(
    server: ServerProcess, attempt: dict[str, Any], timeout: float = TURN_TIMEOUT
) -> dict[str, Any]:
    """The attempt once its turn has ended (idle or failed): waiting is bounded, never a hang."""
    done: dict[str, Any] = wait_for(
        lambda: (
            (a := server.api("GET", f"/api/attempts/{attempt['id']}"))["status"]
            in ("awaiting_review", "failed")
            and a
        ),
        timeout=timeout,
    )
    return done


def processes(server: ServerProcess, attempt: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    return found


def entries(server: ServerProcess, proc: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = server.api("GET", f"/api/processes/{proc['id']}/entries")[
        "entries"
    ]
    return found


def payloads(found: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in found if e["kind"] == kind]


def run_follow_up(
    server: ServerProcess, attempt: dict[str, Any], prompt: str = FOLLOW_UP
) -> dict[str, Any]:
    """Queue a follow-up and wait for it to end; the follow-up as it ended."""
    queued = server.api(
        "POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": prompt}
    )

    def ended() -> dict[str, Any] | None:
        for follow_up in server.api("GET", f"/api/attempts/{attempt['id']}/follow-ups"):
            if follow_up["id"] == queued["id"] and follow_up["status"] in ("done", "failed"):
                return dict(follow_up)
        return None

    done: dict[str, Any] = wait_for(ended, timeout=TURN_TIMEOUT)
    return done


def assert_first_turn_normalised(
    server: ServerProcess, proc: dict[str, Any], file_name: str
) -> list[dict[str, Any]]:
    """The turn's entries: the prompt first, the CLI's session, a write of `file_name` with
    its ok result, the summary as the last assistant message, and usage."""
    found = entries(server, proc)
    kinds = [e["kind"] for e in found]
    assert kinds[0] == "user_message" and found[0]["payload"]["text"] == TITLE
    assert "session" in kinds and "usage" in kinds, kinds
    assert "error" not in kinds, payloads(found, "error")
    (call,) = payloads(found, "tool_call")
    assert call["action"] == "write" and call["paths"][0].endswith(file_name), call
    (result,) = payloads(found, "tool_result")
    assert result["ok"] is True and result["id"] == call["id"]
    said = [p["text"] for p in payloads(found, "assistant_message")]
    assert said and said[-1] == SUMMARY, said
    session = payloads(found, "session")[0]["session_id"]
    assert session and proc["agent_session"] == session
    return found


def assert_committed(worktree: Path, proc: dict[str, Any], files: list[str]) -> None:
    """The turn was auto-committed with the agent's summary as its message, and the commit
    holds `files` only (nothing the CLI kept for itself in the worktree)."""
    subject, body = SUMMARY.split("\n\n", maxsplit=1)
    assert git(worktree, "log", "-1", "--format=%s") == subject
    assert git(worktree, "log", "-1", "--format=%b") == body
    assert git(worktree, "show", "--name-only", "--format=", "HEAD").split("\n") == files
    assert proc["commit_after"] == git(worktree, "rev-parse", "HEAD")
    assert proc["commit_before"] == git(worktree, "rev-parse", "HEAD~1")


def assert_secret_kept_out_of_logs(
    server: ServerProcess, attempt: dict[str, Any], secret: str
) -> None:
    """The key went to the CLI, never to a process log or the server's log."""
    for proc in processes(server, attempt):
        log = server.client.get(f"/api/processes/{proc['id']}/logs/download").text
        assert log and secret not in log
    assert secret not in server.log()


def assert_failed_clearly(
    server: ServerProcess, attempt: dict[str, Any], within: float = TURN_TIMEOUT
) -> list[str]:
    """The turn ended by itself, within `within` seconds, as failed, with a debug id the
    server log has; the process failed too. Both errors say the agent's own reason (its last
    error entry) first, then how it exited. Returns the messages of the turn's error entries
    (at least one)."""
    done = settled(server, attempt, timeout=within)
    assert done["status"] == "failed" and "agent failed" in done["error"], done
    assert done["debug_id"] and done["debug_id"] in server.log()
    (proc,) = processes(server, attempt)
    assert proc["status"] == "failed", proc
    errors = [p["message"] for p in payloads(entries(server, proc), "error")]
    assert errors, entries(server, proc)
    reason = f"{error_reason(errors[-1])} (exited with code {proc['exit_code']})"
    assert proc["error"] == reason, proc
    assert done["error"] == f"agent failed: {reason}", done
    return errors


class WorktreeGate:
    """The attempt's worktree for a fake model's script, which needs it for absolute paths but
    runs before the test knows it: the script waits until the attempt exists."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._known = threading.Event()

    def open(self, attempt: dict[str, Any]) -> Path:
        self._path = Path(attempt["worktree_path"])
        self._known.set()
        return self._path

    def wait(self) -> Path:
        assert self._known.wait(30), "the attempt's worktree was never known"
        assert self._path is not None
        return self._path
