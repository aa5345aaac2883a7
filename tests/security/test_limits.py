"""Exhausting the host: fork bombs, memory bombs and endless runs are stopped by the sandbox's
limits, reported as such, and the host (the server) stays responsive; resource use is measured
live."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, wait_for
from tests.security.helpers import Bench, wait_gone

PIDS = 64


def process_state(server: ServerProcess, process_id: str) -> dict[str, Any]:
    state: dict[str, Any] = server.api("GET", f"/api/processes/{process_id}")
    return state


def test_a_fork_bomb_is_held_at_the_pids_limit(
    bench: Bench, server: ServerProcess, provider: str
) -> None:
    """The classic bomb: its processes fork and leave. It fills the sandbox's pids limit (the
    kernel refuses more forks) while the server answers; when the agent's turn ends, every
    process of the bomb is killed."""
    attempt = bench.start(
        ":(){ :|:& };: ; until [ -f GO ]; do true; done; echo leader-saw-go",
        provider=provider,
        limits={"pids": PIDS, "cpus": 0.5},
    )
    proc = bench.agent_process(attempt)

    def refused_forks() -> bool:
        page = server.api(
            "GET", f"/api/processes/{proc['id']}/logs", params={"q": "Resource temporarily"}
        )
        return bool(page["lines"])

    wait_for(refused_forks, timeout=60)
    # The host is fine meanwhile: the server answers, the process still runs, its sandbox
    # never held more processes than its limit.
    assert server.client.get("/api/health").status_code == 200
    assert process_state(server, proc["id"])["status"] == "running"
    samples = wait_for(lambda: server.api("GET", f"/api/processes/{proc['id']}/stats"))
    assert max(sample["pids"] for sample in samples) <= PIDS
    (Path(attempt["worktree_path"]) / "GO").touch()
    run = bench.finish(attempt)
    assert "leader-saw-go" in run.lines, (run.process, run.lines[-5:])
    wait_gone(proc["id"])  # nothing of the bomb outlives the turn


def test_a_process_that_cannot_fork_fails_with_pids_limit(bench: Bench, provider: str) -> None:
    """The leader itself forks until the kernel refuses: its failure is the pids limit, not a
    bare exit code."""
    run = bench.run(
        "exec sh -c 'while :; do sleep 100 & done'", provider=provider, limits={"pids": PIDS}
    )
    assert run.process["status"] == "failed", run.process
    assert run.process["failure"] == "pids_limit"
    assert run.process["error"] == f"stopped: too many processes (limit {PIDS})"
    wait_gone(run.process["id"])


def test_a_memory_bomb_is_oom_killed_and_reported(bench: Bench, provider: str) -> None:
    run = bench.run(
        "echo allocating; exec dd if=/dev/zero of=/dev/null bs=256M count=1",
        provider=provider,
        limits={"memory_mb": 64},
    )
    assert run.process["status"] == "failed", run.process
    assert run.process["failure"] == "oom_killed"
    assert "out of memory" in run.process["error"] and "64 MB" in run.process["error"]
    assert run.process["exit_code"] in (137, -9), run.process
    assert run.attempt["status"] == "failed"
    assert "out of memory" in run.attempt["error"]


def test_a_process_past_its_time_limit_is_stopped(bench: Bench, provider: str) -> None:
    run = bench.run(
        "echo started; sleep 300 & sleep 300; echo never",
        provider=provider,
        limits={"timeout_s": 1},
    )
    assert run.process["status"] == "failed", run.process
    assert run.process["failure"] == "timeout"
    assert run.process["error"] == "stopped: ran past its time limit (1 s)"
    assert "started" in run.lines and "never" not in run.lines
    wait_gone(run.process["id"])


def test_resource_use_is_sampled_and_streamed(
    bench: Bench, server: ServerProcess, provider: str
) -> None:
    """A running sandbox holding ~48 MB: /api/processes/{id}/stats has samples with its memory
    and processes, and /api/events delivers them as `resource_usage` events."""
    attempt = bench.start(
        "hold=$(head -c 50000000 /dev/zero | tr '\\0' a); echo holding; "
        "while [ ! -f GO ]; do sleep 0.05; done; echo ${#hold}",
        provider=provider,
        limits={"memory_mb": 512},
    )
    proc = bench.agent_process(attempt)
    events: list[dict[str, Any]] = []

    def listen() -> None:
        for _, event, data in server.sse(
            "/api/events", params={"project_id": bench.project["id"]}, timeout=30
        ):
            if event == "resource_usage" and data["data"]["process_id"] == proc["id"]:
                events.append(data["data"])
                if data["data"]["memory_bytes"] > 40_000_000:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()

    def held() -> list[dict[str, Any]] | None:
        samples: list[dict[str, Any]] = server.api("GET", f"/api/processes/{proc['id']}/stats")
        return samples if any(s["memory_bytes"] > 40_000_000 for s in samples) else None

    samples = wait_for(held, timeout=60)
    listener.join(timeout=60)
    (Path(attempt["worktree_path"]) / "GO").touch()
    run = bench.finish(attempt)
    assert run.process["status"] == "succeeded", run.text
    assert [s["seq"] for s in samples] == sorted(s["seq"] for s in samples)
    latest = samples[-1]
    assert latest["pids"] >= 1 and latest["peak_bytes"] >= latest["memory_bytes"] > 40_000_000
    assert set(latest) >= {"seq", "ts", "cpu_percent", "memory_bytes", "peak_bytes", "pids"}
    assert events, "no resource_usage event for the running process"
    assert events[-1]["memory_bytes"] > 40_000_000 and events[-1]["pids"] >= 1
    assert events[-1]["attempt_id"] == attempt["id"]
