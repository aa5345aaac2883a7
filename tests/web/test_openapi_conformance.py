"""The OpenAPI document is true: Schemathesis runs every operation of a real `paddock serve`
with `--checks all` and finds nothing (docs/reliability.md).

The server has a throwaway data dir and HOME, sandboxes without a network (`none`), and a
project with a task, an attempt whose script agent ran, and a test run: a quarter of the ids
the fuzzer sends name those (a Schemathesis dictionary), so the operations that run commands
get past their 404. Agent installs cannot reach a registry (npm offline, pip without an index).
A fixed seed and a bounded number of examples keep the run the same and within minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, make_repo, wait_for

SEED = int(os.environ.get("PADDOCK_FUZZ_SEED", "19"))  # another seed: another run
MAX_EXAMPLES = 8
WORKERS = 1
ROOT = Path(__file__).resolve().parents[2]
AGENT = "echo hello > hello.txt; echo done"


def _seed(server: ServerProcess, repo: Path) -> dict[str, list[str]]:
    """Real resources whose ids the fuzzer gets to use, by path parameter name."""
    scripts = {"setup": "true", "unit_test": "echo ok", "cleanup": "true"}
    project = server.api("POST", "/api/projects", json={"path": str(repo), "scripts": scripts})
    steps = server.api("GET", f"/api/projects/{project['id']}/steps")
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Say hello"})
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": AGENT}},
    )

    def agent_done() -> dict[str, Any] | None:
        processes = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
        return next(
            (p for p in processes if p["reason"] == "agent" and p["status"] != "running"), None
        )

    process = wait_for(agent_done, timeout=60)
    run = server.api("POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit"})
    return {
        "project_id": [project["id"]],
        "step_id": [s["id"] for s in steps],
        "task_id": [task["id"]],
        "attempt_id": [attempt["id"]],
        "process_id": [process["id"]],
        "run_id": [run["id"]],
        "name": ["script"],
    }


def _config(ids: dict[str, list[str]]) -> str:
    """schemathesis.toml: the seeded ids as dictionaries, bound to their path parameters;
    event streams (they never end by themselves) read for a second each."""
    lines = [
        "[[operations]]",
        'include-operation-id-regex = "^stream_"',
        "request-timeout = 1.0",
        "",
    ]
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for name in ids:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.25 }}')
    return "\n".join(lines) + "\n"


def _summary(report: Path) -> tuple[set[str], Counter[int]]:
    """The operations run and the statuses of every request, from the run's NDJSON events."""
    operations: set[str] = set()
    statuses: Counter[int] = Counter()
    for line in report.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if finished is None:
            continue
        interactions = finished["recorder"].get("interactions") or {}
        if finished["phase"] != "stateful" and interactions:
            operations.add(finished["recorder"]["label"])
        for interaction in interactions.values():
            statuses[(interaction.get("response") or {}).get("status_code", 0)] += 1
    return operations, statuses


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "# hello\n"})
    fuzz_root = tmp_path / "fuzzed-paths"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PADDOCK_SANDBOX_NETWORK": "none",
        # Agent installs fail at once instead of fetching from a registry.
        "npm_config_offline": "true",
        "PIP_NO_INDEX": "1",
    }
    with ServerProcess(tmp_path / "data", env=env) as server:
        ids = _seed(server, repo)
        config = tmp_path / "schemathesis.toml"
        config.write_text(_config(ids))
        report_dir = tmp_path / "report"
        excused = tmp_path / "excused.txt"
        excused.touch()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(config),
                "run",
                f"{server.url}/api/openapi.json",
                "--checks",
                "all",
                "--seed",
                str(SEED),
                "--max-examples",
                str(MAX_EXAMPLES),
                "--workers",
                str(WORKERS),
                "--generation-database",
                "none",
                "--header",
                f"Authorization: Bearer {server.token}",
                "--report",
                "ndjson",
                "--report-dir",
                str(report_dir),
                "--no-color",
            ],
            env={
                **os.environ,
                "HOME": str(home),
                "PYTHONPATH": str(ROOT),
                "SCHEMATHESIS_HOOKS": "tests.web.openapi_hooks",
                "PADDOCK_FUZZ_ROOT": str(fuzz_root),
                "PADDOCK_FUZZ_REPO": str(repo),
                "PADDOCK_FUZZ_EXCUSED": str(excused),
            },
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        output = done.stdout + done.stderr
        (tmp_path / "schemathesis.txt").write_text(output)
        print(output[output.rfind("=== SUMMARY") :] if "=== SUMMARY" in output else output)
        for report in report_dir.glob("*.ndjson"):
            operations, statuses = _summary(report)
            print(
                f"schemathesis: {len(operations)} operations, {statuses.total()} requests; "
                f"statuses {dict(sorted(statuses.items()))}"
            )
        excuses = Counter(excused.read_text().splitlines())
        print(f"excused by tests/web/openapi_hooks.py: {dict(excuses)}")
        assert done.returncode == 0, output[-20000:]
