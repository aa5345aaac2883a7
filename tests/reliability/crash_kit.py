"""What every crash case needs: a way to stop the server at a precise moment, and the checks
that a restarted server left nothing behind and told the truth about what it found.

The precise moment: the server runs `git` through a shim on its PATH that, for the first
command matching `CRASH_GIT_PAUSE` (e.g. "worktree add"), writes `CRASH_MARKER` and waits
(before running git, or after it with `CRASH_GIT_WHEN=after`): Paddock's own git runs no repository
hook (runtime/git/commands.py), so a hook cannot stop it. Scripts (agents, setup, tests) stop
themselves: they write a marker file and sleep.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

from paddock.runtime import proctree
from paddock.runtime.sandbox import cgroups
from tests.e2e.server import ServerProcess, wait_for

REAL_GIT = shutil.which("git") or "/usr/bin/git"
# The shim waits in a loop of short sleeps, so that once its server is gone, nothing of it
# outlives the wait by more than a moment if it is killed; the wait itself is long enough for
# any test to kill the server in it.
GIT_SHIM = f"""#!/bin/bash
if [ -n "$CRASH_GIT_PAUSE" ] && [[ " $* " == *" $CRASH_GIT_PAUSE "* ]] \\
   && mkdir "$CRASH_MARKER.lock" 2>/dev/null; then
  if [ "$CRASH_GIT_WHEN" = after ]; then
    {REAL_GIT} "$@"; rc=$?
    : > "$CRASH_MARKER"
    for _ in $(seq 1 600); do sleep 0.1; done
    exit $rc
  fi
  : > "$CRASH_MARKER"
  for _ in $(seq 1 600); do sleep 0.1; done
fi
exec {REAL_GIT} "$@"
"""


def git_pause_env(
    tmp_path: Path, command: str, *, when: str = "before"
) -> tuple[dict[str, str], Path]:
    """Server environment whose first `git <command>` pauses; and the marker it writes then."""
    bin_dir = tmp_path / "shim-bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "git"
    shim.write_text(GIT_SHIM)
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    marker = tmp_path / f"paused-{command.replace(' ', '-')}"
    env = {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "CRASH_GIT_PAUSE": command,
        "CRASH_MARKER": str(marker),
        "CRASH_GIT_WHEN": when,
    }
    return env, marker


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([REAL_GIT, *args], cwd=cwd, capture_output=True, text=True, check=check)


# --- the crash -----------------------------------------------------------------------------


class Crash:
    """A server on a data dir, killed with SIGKILL at the chosen moment, then restarted."""

    def __init__(self, data: Path, env: dict[str, str] | None = None) -> None:
        self.data = data
        self.env = env or {}
        self.server = ServerProcess(data, env=self.env).start()
        self.killed_cgroup = ""  # the dead server's cgroup folder name (pid-starttime)
        self.killed_pid = 0

    def kill(self) -> None:
        assert self.server.proc is not None
        self.killed_pid = self.server.proc.pid
        self.killed_cgroup = cgroups.server_name(self.killed_pid)
        self.server.kill9()
        self.server.stop()

    def restart(self, env: dict[str, str] | None = None) -> ServerProcess:
        """The same data dir, a new server; without the pause unless `env` brings it back."""
        clean = {k: v for k, v in self.env.items() if not k.startswith("CRASH_")}
        self.server = ServerProcess(self.data, env={**clean, **(env or {})}).start()
        return self.server


def wait_for_marker(marker: Path, timeout: float = 60) -> None:
    wait_for(marker.exists, timeout)


# --- what must hold after the restart ------------------------------------------------------


def _ancestors(pid: int) -> set[int]:
    seen: set[int] = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        try:
            stat_line = Path(f"/proc/{pid}/stat").read_text(errors="replace")
        except OSError:
            break
        pid = int(stat_line.rpartition(")")[2].split()[1])
    return seen


def leftovers(data: Path, process_ids: list[str], alive_server: ServerProcess | None) -> list[str]:
    """Processes of the dead server still running: anything carrying its data dir in its
    environment (git, hooks, helpers it started) or the tag of one of its supervised processes,
    that is not the restarted server or one of its descendants."""
    ours = alive_server.proc.pid if alive_server and alive_server.proc else -1
    needles = {f"PADDOCK_DATA_DIR={data}".encode()}
    needles |= {f"{proctree.TAG_VARIABLE}={pid}".encode() for pid in process_ids}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            environ = set(Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"))
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if not environ & needles or not proctree.is_alive(pid, None):
            continue
        if ours in _ancestors(pid):
            continue
        found.append(f"{pid}: {cmdline.decode(errors='replace')[:200]}")
    return found


def assert_nothing_left(crash: Crash, process_ids: list[str]) -> None:
    """0 processes of the killed server left, none orphaned, none still in a cgroup."""
    server = crash.server
    left = wait_for_none(lambda: leftovers(crash.data, process_ids, server))
    assert left == [], left
    for controller in ("memory", "pids", ""):
        folder = cgroups.CGROUP_ROOT / controller / cgroups.PARENT / crash.killed_cgroup
        assert not folder.exists(), f"the killed server's cgroups are still there: {folder}"


def wait_for_none(probe: Any, timeout: float = 5) -> Any:
    """`probe()` until it is empty: a process killed a moment ago may still be exiting."""
    try:
        return wait_for(lambda: not probe(), timeout) and []
    except AssertionError:
        return probe()


def all_processes(server: ServerProcess, attempt_ids: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for attempt_id in attempt_ids:
        found += server.api("GET", f"/api/attempts/{attempt_id}/processes")
    return found


def assert_reconciled(server: ServerProcess, processes: list[dict[str, Any]]) -> None:
    """Every process the dead server left unfinished is finished now, and says why."""
    for before in processes:
        now = server.api("GET", f"/api/processes/{before['id']}")
        assert now["status"] not in ("queued", "running"), now
        if before["status"] in ("queued", "running"):
            assert now["status"] in ("stopped", "lost"), now
            assert now["error"], now


def assert_attempt_says(
    server: ServerProcess, attempt_id: str, status: str, reason: str
) -> dict[str, Any]:
    """The API's status and reason of the attempt, and its page rendering both."""
    attempt: dict[str, Any] = server.api("GET", f"/api/attempts/{attempt_id}")
    assert attempt["status"] == status, attempt
    assert reason in (attempt["error"] or ""), attempt
    page = server.client.get(f"/attempts/{attempt_id}")
    assert page.status_code == 200, page.text[:500]
    text = html.unescape(page.text)
    assert status.replace("_", " ") in text
    assert attempt["error"] in text, f"the page does not say {attempt['error']!r}"
    return attempt


def assert_lines_kept(server: ServerProcess, process_id: str, prefix: str, count: int) -> None:
    """The `count` lines the process printed (`<prefix> 1..count`) before its last flush, all
    kept, in order, numbered without a gap."""
    lines = server.api("GET", f"/api/processes/{process_id}/logs", params={"limit": 10000})["lines"]
    numbered = [
        int(line["text"].split()[1]) for line in lines if line["text"].startswith(prefix + " ")
    ]
    assert numbered[:count] == list(range(1, count + 1)), numbered[-5:]
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))


def assert_repo_consistent(repo: Path, worktrees_root: Path) -> None:
    """`git fsck` clean, no lock left, and every worktree either whole and registered or gone."""
    fsck = git(repo, "fsck", "--no-progress", check=False)
    assert fsck.returncode == 0, fsck.stderr + fsck.stdout
    locks = [p for p in (repo / ".git").rglob("*.lock")]
    assert locks == [], locks
    listed = git(repo, "worktree", "list", "--porcelain").stdout
    assert "prunable" not in listed, listed
    registered = {
        Path(line.split(" ", 1)[1]).resolve()
        for line in listed.splitlines()
        if line.startswith("worktree ")
    }
    for group in worktrees_root.iterdir() if worktrees_root.is_dir() else ():
        for tree in group.iterdir():
            assert tree.resolve() in registered, f"{tree} is not a registered worktree"
    for tree in registered:
        if tree != repo.resolve():
            status = git(tree, "status", "--porcelain", check=False)
            assert status.returncode == 0, (tree, status.stderr)
            assert not re.search(r"index\.lock", status.stderr)


# --- scripts that stop themselves at a known point ------------------------------------------

# Ten times the log flush interval (50 ms, docs/reliability.md): every line printed before
# this pause has been flushed to the store when the server is killed.
AFTER_LAST_FLUSH_S = 0.5
LINES = 30


def busy(prefix: str) -> str:
    """A script that prints `<prefix> 1..LINES`, says READY, then runs until killed."""
    return f'for i in $(seq 1 {LINES}); do echo "{prefix} $i"; done; echo READY; sleep 600'


def printed_ready(server: ServerProcess, process_id: str) -> bool:
    lines = server.api("GET", f"/api/processes/{process_id}/logs", params={"q": "READY"})
    return bool(lines["lines"])


def process_of(server: ServerProcess, attempt_id: str, reason: str = "agent") -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        procs = server.api("GET", f"/api/attempts/{attempt_id}/processes")
        return next((p for p in procs if p["reason"] == reason), None)

    found: dict[str, Any] = wait_for(find, 60)
    return found


def new_attempt(server: ServerProcess, project: dict[str, Any], agent: str) -> dict[str, Any]:
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Work"})
    attempt: dict[str, Any] = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": agent}}
    )
    return attempt


def settled(server: ServerProcess, attempt: dict[str, Any]) -> None:
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review",
        60,
    )
