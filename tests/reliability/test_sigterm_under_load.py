"""SIGTERM under load: agents printing, a preview serving and a huge, deeply nested JUnit report
being parsed (a report once made the server ignore SIGTERM). The server stops on its own,
within its grace period, and stops everything it ran: nothing is left for the next start to
reconcile (docs/reliability.md, "Crash matrix")."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from paddock.runtime.sandbox import cgroups
from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_previews import PREVIEW_ENV, STATIC
from tests.reliability.crash_kit import (
    LINES,
    all_processes,
    assert_lines_kept,
    busy,
    leftovers,
    new_attempt,
    printed_ready,
    process_of,
    settled,
)
from tests.reliability.reports import REPORT, REPORT_ENV, parsing_started

# cli/serving.py: uvicorn's graceful shutdown (10 s) + Engine.close (CLOSE_TIMEOUT_S, 20 s) +
# a 5 s margin; its watchdog ends the process then. The test waits a little past it.
GRACE_PERIOD_S = 35
WATCHDOG_SAYS = "did not stop within"


def test_sigterm_while_a_report_bomb_is_parsed_stops_everything_in_time(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"report.py": REPORT, "index.html": "main\n"})
    data = tmp_path / "data"
    server = ServerProcess(data, env={**PREVIEW_ENV, **REPORT_ENV}).start()
    assert server.proc is not None
    project = server.api(
        "POST",
        "/api/projects",
        json={
            "path": str(repo),
            "scripts": {"unit_test": "python3 report.py", "dev": STATIC},
        },
    )
    idle = new_attempt(server, project, "true")
    settled(server, idle)
    [preview] = server.api("POST", f"/api/attempts/{idle['id']}/previews", json={"wait": True})
    assert preview["status"] == "running"
    running = [new_attempt(server, project, busy("tick")) for _ in range(4)]
    agents = [process_of(server, attempt["id"]) for attempt in running]
    for agent in agents:
        wait_for(lambda agent=agent: printed_ready(server, agent["id"]), 60)
    run = server.api("POST", f"/api/attempts/{idle['id']}/test-runs", json={"kind": "unit"})
    wait_for(lambda: parsing_started(server, run), 120, 0.01)
    ids = [a["id"] for a in [idle, *running]]
    before = all_processes(server, ids)
    server_cgroup = cgroups.server_name(server.proc.pid)

    server.proc.send_signal(signal.SIGTERM)
    try:
        code = server.proc.wait(GRACE_PERIOD_S + 5)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        raise AssertionError("the server ignored SIGTERM past its grace period") from None
    finally:
        server.stop()
    log = server.log()
    assert WATCHDOG_SAYS not in log, log[-2000:]  # it stopped by itself, not by its watchdog
    assert "Application shutdown complete" in log, log[-2000:]
    assert code in (0, -signal.SIGTERM), log[-2000:]  # uvicorn re-raises the signal it handled
    # Everything it ran was stopped by the server itself, before any restart.
    assert leftovers(data, [p["id"] for p in before], None) == []
    # None is still in a cgroup of the server (an empty group the kernel frees a moment late
    # may stay for the next start to remove: cgroups.py).
    for controller in ("memory", "pids", ""):
        folder = cgroups.CGROUP_ROOT / controller / cgroups.PARENT / server_cgroup
        held = [p for p in folder.rglob("cgroup.procs") if p.read_text().strip()]
        assert held == [], held

    with ServerProcess(data, env={**PREVIEW_ENV, **REPORT_ENV}) as again:
        for proc in before:
            now = again.api("GET", f"/api/processes/{proc['id']}")
            # Stopped by the server, with the reason: not `lost` (found by a reconcile).
            assert now["status"] != "lost", now
            if proc["status"] == "running":  # a stop's reason is its log's last line
                assert now["status"] == "stopped", now
                lines = again.api("GET", f"/api/processes/{proc['id']}/logs")["lines"]
                assert lines[-1]["stream"] == "system" and "stopped" in lines[-1]["text"]
        for agent in agents:  # a stop flushes every line: none is lost
            assert_lines_kept(again, agent["id"], "tick", LINES)
        finished = again.api("GET", f"/api/test-runs/{run['id']}")["run"]
        assert finished["status"] == "error" and finished["error"], finished
        stopped = again.api("GET", f"/api/previews/{preview['id']}")
        assert stopped["status"] == "stopped", stopped
        for attempt in running:
            now = again.api("GET", f"/api/attempts/{attempt['id']}")
            assert now["status"] == "stopped" and "shutting down" in now["error"], now
