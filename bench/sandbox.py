"""Sandbox spawn overhead: launch → exit of `true` per provider, versus a plain spawn.

Each measurement drives the engine's own launchers (paddock.runtime) the way the process
service does: build the LaunchSpec, `launch()`, read stdout and stderr to EOF, `wait()`, then
`reap_leftovers()` (for bwrap that also ends its cgroup). Baselines in the same run:
`subprocess.Popen(["true"]).wait()` and Paddock's plain launcher ("none"). Runs alternate between
the variants so drift hits all alike.

- bwrap: the full sandbox (namespaces, mounts, setpriv as root) with a cgroup (limits), started
  by a spare shell that joined its cgroup ahead of time (runtime/sandbox/spares.py), as the
  engine does.
- bwrap, no spare: the same when no spare is ready (a burst of launches): the shell joins the
  cgroup on the way, and waits for the kernel's RCU grace period that a cgroup move takes.
- bwrap, no cgroup: the same without the cgroup, to show what the limits cost.
- bwrap, network none / private: the first with its network; "host" otherwise. Private makes a
  network namespace and starts slirp4netns (ready before the command), then ends it.
- container: when the container provider works here (Podman/Docker), fewer runs; network host
  and private (Podman: slirp4netns).

Target: bwrap ≤ plain + 10 ms per process (median).

    .venv/bin/python bench/sandbox.py [--quick | --full]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import Row, git, make_repo, median, report, small_files, step

from paddock.config import Settings
from paddock.domain.sandbox import Limits, Network, Provider
from paddock.runtime.launcher import Launched, LaunchSpec, PlainLauncher, SandboxSpec
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.cgroups import Hierarchy
from paddock.runtime.sandbox.sandbox_identity import find_user
from paddock.services.sandbox.sandboxing import make_sandboxes

TARGET_MS = 10.0


async def run_once(launcher: Any, spec: LaunchSpec) -> float:
    start = time.perf_counter()
    launched: Launched = await launcher.launch(spec)
    await asyncio.gather(launched.stdout.read(), launched.stderr.read())
    code = await launched.wait()
    elapsed = time.perf_counter() - start
    await launched.reap_leftovers(1.0)
    if code != 0:
        raise RuntimeError(f"{launcher.name}: `true` exited {code}")
    return elapsed * 1000


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.9 * (len(ordered) - 1))]


def raw_once(cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.Popen(["true"], cwd=cwd).wait()
    return (time.perf_counter() - start) * 1000


def container_launcher(settings: Settings) -> Any | None:
    """The container provider when it is built and works here, else None (and why)."""
    launcher = make_sandboxes(settings).providers.get(Provider.container)
    if launcher is None:
        return None
    problem = launcher.problem()
    if problem:
        step(f"container provider not available: {problem}")
        return None
    return launcher


LABELS = (
    ("bwrap", "bwrap + cgroup"),
    ("bwrap_no_spare", "bwrap + cgroup, no spare ready"),
    ("bwrap_no_cgroup", "bwrap, no cgroup"),
    ("bwrap_net_none", "bwrap + cgroup, network none"),
    ("bwrap_private", "bwrap + cgroup, network private"),
)


def table(samples: dict[str, list[float]], sandbox_user: str | None) -> tuple[list[Row], list[str]]:
    base = median(samples["none"])
    rows = [
        Row(
            "plain spawn (`none`), launch → exit",
            base,
            median(samples["raw"]),
            f"+{base - median(samples['raw']):.2f} ms",
            "-",
            None,
            "ms",
        ),
    ]
    for key, label in LABELS:
        if not samples[key]:
            continue
        value = median(samples[key])
        baseline = median(samples["none_no_spare_phase"]) if key == "bwrap_no_spare" else base
        delta = value - baseline
        rows.append(
            Row(
                f"{label}, launch → exit",
                value,
                baseline,
                f"+{delta:.2f} ms",
                f"≤ +{TARGET_MS:g} ms",
                delta <= TARGET_MS if key == "bwrap" else None,
                "ms",
            )
        )
    notes = [
        "baseline column: Paddock's plain launcher (provider none) of the same run; its own "
        "baseline is subprocess.Popen(['true']).wait()",
        f"bwrap runs as root here: bwrap, then setpriv to {sandbox_user}"
        if sandbox_user is not None
        else "bwrap runs unprivileged (user namespace)",
        "no spare ready: measured in a phase of its own (no spare moving meanwhile), against "
        "plain spawns of that phase",
        "90th percentiles: "
        + ", ".join(f"{key} {p90(samples[key]):.1f} ms" for key, _ in LABELS if samples[key])
        + " (a cgroup move waits for an RCU grace period, unless one just passed)",
    ]
    if samples["container"]:
        for key, label in (("container", "host"), ("container_private", "private")):
            if not samples[key]:
                continue
            value = median(samples[key])
            rows.append(
                Row(
                    f"container start → exit, network {label}",
                    value,
                    base,
                    f"+{value - base:.0f} ms",
                    "report",
                    None,
                    "ms",
                )
            )
    else:
        notes.append("container: not measured (the provider does not work here; see above)")
    return rows, notes


async def measure(runs: int, container_runs: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="paddock-bench-sandbox-", dir="/var/tmp"))
    worktree = make_repo(tmp / "worktree", small_files())
    settings = Settings(data_dir=tmp / "data", demo=False)
    user = find_user(settings.sandbox.user)
    hierarchy = Hierarchy()
    with_cgroup = BwrapLauncher(user=user, hierarchy=hierarchy)
    no_spare = BwrapLauncher(user=user, hierarchy=hierarchy, spares=False)
    without_cgroup = BwrapLauncher(user=user, hierarchy=None)
    problem = with_cgroup.problem()
    if problem:
        raise SystemExit(f"bwrap does not work here: {problem}")
    private_problem = with_cgroup.network_problem(Network.private)
    if private_problem:
        step(f"network private not measured: {private_problem}")
    plain = PlainLauncher()
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    limits = Limits(memory_mb=1024, pids=512)

    def spec(provider: Provider | None, network: Network = Network.host) -> LaunchSpec:
        sandbox = None
        if provider is not None:
            sandbox = SandboxSpec(provider, network, limits, writable=(worktree,))
        return LaunchSpec(["true"], worktree, dict(env), sandbox=sandbox)

    container = container_launcher(settings)
    samples: dict[str, list[float]] = {
        "raw": [],
        "none": [],
        "bwrap": [],
        "bwrap_no_spare": [],
        "bwrap_no_cgroup": [],
        "bwrap_net_none": [],
        "bwrap_private": [],
        "container": [],
        "container_private": [],
    }
    step(f"{runs} runs of each, alternating")
    for _ in range(3):  # warm up page cache and binaries
        raw_once(worktree)
        await run_once(with_cgroup, spec(Provider.bwrap))
    for i in range(runs):
        samples["raw"].append(raw_once(worktree))
        samples["none"].append(await run_once(plain, spec(None)))
        samples["bwrap"].append(await run_once(with_cgroup, spec(Provider.bwrap)))
        samples["bwrap_no_cgroup"].append(await run_once(without_cgroup, spec(Provider.bwrap)))
        none = spec(Provider.bwrap, Network.none)
        samples["bwrap_net_none"].append(await run_once(with_cgroup, none))
        if private_problem is None:
            private = spec(Provider.bwrap, Network.private)
            samples["bwrap_private"].append(await run_once(with_cgroup, private))
        if container is not None and i < container_runs:
            samples["container"].append(await run_once(container, spec(Provider.container)))
            if container.network_problem(Network.private) is None:
                private = spec(Provider.container, Network.private)
                samples["container_private"].append(await run_once(container, private))

    # Apart: a spare's own cgroup move (in the background) keeps the kernel's grace-period
    # state warm, which would make the moves measured here look cheaper than they are.
    with_cgroup.close()
    step(f"{runs} runs without spares, alternating with plain spawns")
    no_spare_base: list[float] = []
    for _ in range(runs):
        no_spare_base.append(await run_once(plain, spec(None)))
        samples["bwrap_no_spare"].append(await run_once(no_spare, spec(Provider.bwrap)))
    samples["none_no_spare_phase"] = no_spare_base

    rows, notes = table(samples, sandbox_user=settings.sandbox.user if user else None)
    if container is not None:
        container.close()
    report(
        "sandbox",
        rows,
        {"samples_ms": samples, "git": git(worktree, "--version").stdout.decode().strip()},
        notes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    runs = 20 if args.quick else 200 if args.full else 60
    container_runs = 3 if args.quick else 20 if args.full else 8
    asyncio.run(measure(runs, container_runs))


if __name__ == "__main__":
    main()
