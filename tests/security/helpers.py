"""Running escape attempts: `script` agents in a chosen sandbox, through the real server.

Each script prints one line per probe, `<label>: rc=<exit code> <output>` (the output's lines
joined by `|`), made by the shell function `probe` every script starts with; `Run.probe` reads
them back.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, wait_for

# Every script starts with this: `probe LABEL CMD...` runs CMD and prints its exit code and
# its output (stdout and stderr) on one line.
PRELUDE = r"""
probe() {
  label=$1; shift
  out=$("$@" 2>&1); rc=$?
  printf '%s: rc=%s %s\n' "$label" "$rc" "$(printf %s "$out" | tr '\n' '|')"
}
"""
_PROBE_LINE = re.compile(r"^(?P<label>[\w.-]+): rc=(?P<rc>\d+) ?(?P<out>.*)$")
FINISHED = ("succeeded", "failed", "stopped", "lost")
SETTLED = ("awaiting_review", "stopped", "failed", "merged", "vanished")


def token() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True)
class Probe:
    rc: int
    out: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


@dataclass
class Run:
    """One attempt of the script agent, once its turn (and the auto-commit after it) ended."""

    attempt: dict[str, Any]
    process: dict[str, Any]
    lines: list[str] = field(default_factory=list)

    @property
    def worktree(self) -> Path:
        return Path(self.attempt["worktree_path"])

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def probes(self) -> dict[str, Probe]:
        found = {}
        for line in self.lines:
            match = _PROBE_LINE.match(line)
            if match:
                found[match["label"]] = Probe(int(match["rc"]), match["out"])
        return found

    def probe(self, label: str) -> Probe:
        probes = self.probes()
        assert label in probes, f"probe {label!r} did not run; log:\n{self.text}"
        return probes[label]

    def refused(self, label: str, *reasons: str) -> Probe:
        """The probe failed, for one of `reasons` (an error message, e.g. errno's text)."""
        result = self.probe(label)
        assert not result.ok, f"{label} was allowed: {result.out!r}\nlog:\n{self.text}"
        assert any(reason in result.out for reason in reasons), (
            f"{label} failed, but not with {reasons}: {result.out!r}"
        )
        return result

    def allowed(self, label: str) -> Probe:
        result = self.probe(label)
        assert result.ok, f"{label} failed: {result.out!r}\nlog:\n{self.text}"
        return result


class Bench:
    """A project on the module's server, where tests start script attempts."""

    def __init__(self, server: ServerProcess, project: dict[str, Any], repo: Path) -> None:
        self.server = server
        self.project = project
        self.repo = repo

    def start(
        self,
        script: str,
        *,
        provider: str,
        network: str | None = "host",
        limits: dict[str, float] | None = None,
        env: dict[str, str] | None = None,
        secret_env: list[str] | None = None,
        title: str = "escape",
    ) -> dict[str, Any]:
        """Start an attempt whose agent runs `script` (after the probe prelude); `network`
        None: the server's default."""
        task = self.server.api(
            "POST", f"/api/projects/{self.project['id']}/tasks", json={"title": title}
        )
        sandbox = {"provider": provider, "network": network, "limits": limits or {}}
        if network is None:
            del sandbox["network"]
        agent = {
            "profile": "script",
            "command": PRELUDE + script,
            "env": env or {},
            "secret_env": secret_env or [],
        }
        attempt: dict[str, Any] = self.server.api(
            "POST",
            f"/api/tasks/{task['id']}/attempts",
            json={"agent": agent, "sandbox": sandbox},
        )
        return attempt

    def agent_process(self, attempt: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            procs = self.server.api("GET", f"/api/attempts/{attempt['id']}/processes")
            return next((p for p in procs if p["reason"] == "agent"), None)

        found: dict[str, Any] = wait_for(find, timeout)
        return found

    def finish(self, attempt: dict[str, Any], timeout: float = 90) -> Run:
        """Wait for the attempt's agent turn to end and the attempt to settle (so the
        auto-commit after the turn ran); its process and log."""
        proc = self.agent_process(attempt, timeout)

        def settled() -> tuple[dict[str, Any], dict[str, Any]] | None:
            current = self.server.api("GET", f"/api/attempts/{attempt['id']}")
            process = self.server.api("GET", f"/api/processes/{proc['id']}")
            done = process["status"] in FINISHED and current["status"] in SETTLED
            return (current, process) if done else None

        current, process = wait_for(settled, timeout, interval=0.1)
        page = self.server.api(
            "GET", f"/api/processes/{process['id']}/logs", params={"limit": 10000}
        )
        return Run(current, process, [line["text"] for line in page["lines"]])

    def run(self, script: str, **options: Any) -> Run:
        timeout = options.pop("timeout", 90)
        return self.finish(self.start(script, **options), timeout)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def host_processes_with(needle: str) -> list[int]:
    """Host pids whose command line or environment holds `needle` (this process excluded)."""
    found = []
    raw = needle.encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            with contextlib.suppress(OSError):
                data = Path(entry.path, part).read_bytes()
                if raw in data:
                    state = _state(entry.path)
                    if state not in ("Z", "X", None):
                        found.append(int(entry.name))
                    break
    return found


def _state(proc_dir: str) -> str | None:
    try:
        stat = Path(proc_dir, "stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0]


def wait_gone(needle: str, timeout: float = 30) -> None:
    """Wait until no host process carries `needle`; fail naming the survivors."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not host_processes_with(needle):
            return
        time.sleep(0.1)
    survivors = host_processes_with(needle)
    commands = [_cmdline(pid) for pid in survivors]
    raise AssertionError(f"processes outlived their sandbox: {survivors} {commands}")


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return "?"


def file_state(path: Path) -> tuple[int, int, int, bytes] | None:
    """What must not change in a host file: owner, mode, size, content (None: absent)."""
    try:
        info = path.stat()
        return info.st_uid, info.st_mode, info.st_size, path.read_bytes()
    except FileNotFoundError:
        return None
