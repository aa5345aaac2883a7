"""What outlives the server: nothing a sandbox started survives the server's SIGKILL (bwrap:
at once, its pid namespace dies with it; container: the next server reaps what servers that are
gone left); `paddock doctor` says which providers work here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.security.conftest import provider_problem
from tests.security.helpers import PRELUDE, host_processes_with, token, wait_gone

CGROUP_PIDS = Path("/sys/fs/cgroup/pids/paddock")


def server_name(pid: int) -> str:
    """The name a server gives its cgroups' directory (runtime/cgroups.server_name)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return f"{pid}-{stat[19]}"


def test_nothing_outlives_a_killed_server(host_dir: Path, provider: str) -> None:
    data = host_dir / f"data-{token()}"
    repo = make_repo(host_dir / f"repo-{token()}")
    name = f"survivor-{token()}"
    # A daemon that left the session and cleared its environment, and a leader that waits.
    script = (
        PRELUDE
        + f"setsid nohup env -i /bin/bash -c 'while :; do sleep 0.05; done' {name} "
        + ">/dev/null 2>&1 </dev/null & echo started; while :; do sleep 0.05; done"
    )
    server = ServerProcess(data).start()
    try:
        assert server.proc is not None
        old_server = server_name(server.proc.pid)
        project = server.api("POST", "/api/projects", json={"path": str(repo)})
        task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
        server.api(
            "POST",
            f"/api/tasks/{task['id']}/attempts",
            json={"agent": {"command": script}, "sandbox": {"provider": provider}},
        )
        wait_for(lambda: host_processes_with(name), timeout=60)
        server.kill9()
        if provider == "bwrap":
            # --die-with-parent: bwrap dies with the server, and its pid namespace with it.
            wait_gone(name)
    finally:
        server.stop()
    # The next server on the same data dir reaps what the dead one left (its cgroups; its
    # containers).
    with ServerProcess(data) as again:
        wait_gone(name, timeout=60)
        if CGROUP_PIDS.is_dir():
            wait_for(lambda: not (CGROUP_PIDS / old_server).exists(), timeout=30)
        assert again.client.get("/api/health").status_code == 200


def test_a_stopped_server_leaves_no_cgroup_folder(host_dir: Path) -> None:
    """A server that ran bwrap sandboxes (and kept spares) and then stopped leaves nothing
    under `paddock/` in any cgroup controller: its groups, and its own folder, are gone."""
    if provider_problem("bwrap") is not None or not CGROUP_PIDS.parent.parent.is_dir():
        pytest.skip(f"no bwrap sandboxes with cgroups here: {provider_problem('bwrap')}")
    repo = make_repo(host_dir / f"repo-{token()}")
    with ServerProcess(host_dir / f"data-{token()}") as server:
        assert server.proc is not None
        own = server_name(server.proc.pid)
        project = server.api("POST", "/api/projects", json={"path": str(repo)})
        task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
        attempt = server.api(
            "POST",
            f"/api/tasks/{task['id']}/attempts",
            json={"agent": {"command": "echo hi"}, "sandbox": {"provider": "bwrap"}},
        )
        wait_for(
            lambda: (
                server.api("GET", f"/api/attempts/{attempt['id']}")["status"]
                not in ("setting_up", "running")
            ),
            timeout=60,
        )
        folders = [p / "paddock" / own for p in CGROUP_PIDS.parent.parent.iterdir()]
        assert any(folder.is_dir() for folder in folders)  # the server had its own
    assert [str(f) for f in folders if f.exists()] == []


def test_doctor_lists_every_sandbox_provider(host_dir: Path) -> None:
    env = {
        **os.environ,
        "COLUMNS": "250",
        "PADDOCK_DATA_DIR": str(host_dir / "doctor-data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "paddock", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    rows = {}
    for line in done.stdout.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃]", line)]
        if len(cells) >= 4 and cells[1].startswith(("sandbox ", "network ")):
            rows[cells[1]] = (cells[2], cells[3])
    assert set(rows) == {
        "sandbox none",
        "sandbox bwrap",
        "sandbox container",
        "sandbox default",
        "network private",
        "network default",
    }
    # The default network: outbound only, the host's loopback out of reach.
    assert rows["network private"] == (
        "ok",
        "bwrap sandboxes: outbound only, never the host's loopback",
    )
    assert rows["network default"] == ("ok", "private")
    assert rows["sandbox none"][0] == "ok"
    assert rows["sandbox bwrap"][0] == "ok"
    assert rows["sandbox bwrap"][1].startswith("works (limits enforced")
    container = provider_problem("container")
    if container is None:
        assert rows["sandbox container"][0] == "ok"
        assert rows["sandbox container"][1].startswith("works")
    else:
        assert rows["sandbox container"][0] == "absent"
        assert rows["sandbox container"][1] == container
    assert rows["sandbox default"][0] == "ok"
