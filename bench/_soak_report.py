"""The soak's time series and summary table (bench/soak.py): the samples, their printing, the
targets and the rows."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from _harness import Row

WARMUP_SHARE = 0.2  # of the load, left out of the growth figures

# Targets (issue 19).
RSS_GROWTH_PCT = 10.0
P99_MS = 50.0
FD_SPREAD = 10  # "flat": after warm-up, max - min of the samples (reconnects come and go)
THREAD_SPREAD = 2
# "Back near the baseline" once everything stopped: the server's bounded pools may have grown
# past what the priming round needed: the database's (store/db.py: pool_size=10, each
# connection holding the database file and its WAL) and asyncio's default executor (threads
# started on demand up to min(32, cpus + 4), kept). Every other fd (sockets, pipes, eventfds)
# must come back to the baseline, give or take FD_MARGIN.
DB_FD_MARGIN = 20
FD_MARGIN = 2
THREAD_MARGIN = min(32, (os.cpu_count() or 1) + 4)


@dataclass
class Plan:
    minutes: float
    attempts: int
    clients: int
    rate: int
    tick: float = 0.01  # seconds between an agent's writes
    env: dict[str, str] = field(default_factory=dict)  # extra, for the server


@dataclass
class Sample:
    t: float  # seconds since the load started
    rss: float
    fds: int
    threads: int
    cpu_pct: float
    host_pct: float  # the whole machine's CPU busy, all cores (200 % = 2 cores)
    p50: float
    p99: float
    probes: int
    lines: float
    lines_per_s: float
    received: int  # lines received by the log clients, summed
    bus_events: int
    patches: int
    syncs: int
    gaps_dups: int
    streams: float


HEAD = (
    "|    t s |  RSS MB | fds | thr | CPU % | host % | p50 ms | p99 ms | lines ingested | lines/s "
    "| log lines recv | bus ev | patches | syncs | gaps+dups | streams |"
)


def print_head() -> None:
    print(HEAD)
    print("|" + "|".join("-" * len(c) for c in HEAD.split("|")[1:-1]) + "|", flush=True)


def fmt_sample(s: Sample) -> str:
    return (
        f"| {s.t:6.0f} | {s.rss:7.1f} | {s.fds:3d} | {s.threads:3d} | {s.cpu_pct:5.0f} "
        f"| {s.host_pct:6.0f} "
        f"| {s.p50:6.1f} | {s.p99:6.1f} | {s.lines:14,.0f} | {s.lines_per_s:7,.0f} "
        f"| {s.received:14,d} | {s.bus_events:6,d} | {s.patches:7,d} | {s.syncs:5d} "
        f"| {s.gaps_dups:9d} | {s.streams:7.0f} |"
    )


def print_sample(s: Sample) -> None:
    print(fmt_sample(s), flush=True)


# --- the summary -------------------------------------------------------------------------------


def after_warmup(samples: list[Sample], plan: Plan) -> list[Sample]:
    """The samples of the steady load: past the warm-up, before the agents' printing ends (the
    samples after it, while they exit and their streams end, are in the series only)."""
    warm, end = plan.minutes * 60 * WARMUP_SHARE, plan.minutes * 60
    return [s for s in samples if warm <= s.t <= end + 1] or samples[-1:]


def other_fds(state: dict[str, Any]) -> int:
    """Open fds that are not the database's files (paddock.db, -wal, -shm)."""
    return sum(n for k, n in state["inventory"]["fds"].items() if ".db" not in k)


def spread(values: list[int]) -> int:
    return max(values) - min(values)


def summary(
    plan: Plan,
    idle: dict[str, float],
    samples: list[Sample],
    final: dict[str, Any],
    line_counts: dict[str, int],
    stopped: dict[str, Any],
) -> list[Row]:
    steady = after_warmup(samples, plan)
    first, rss_max = steady[0].rss, max(s.rss for s in steady)
    growth = (rss_max - first) / first * 100
    records = final["records"]
    gaps = sum(r["gaps"] for r in records)
    dups = sum(r["dups"] for r in records)
    logs = [r for r in records if r["kind"] == "log"]
    agent_of = {r["name"]: r["path"].split("/")[3] for r in logs}
    complete = sum(
        1
        for r in logs
        if r["last"] == line_counts[agent_of[r["name"]]] and r["end_line_count"] == r["last"]
    )
    worst_p99 = max(s.p99 for s in samples)
    fds = [s.fds for s in steady]
    threads = [s.threads for s in steady]
    syncs = sum(r["syncs"] for r in records)
    rows = [
        Row(
            f"RSS growth, samples {steady[0].t:.0f}-{steady[-1].t:.0f} s: max vs first",
            rss_max,
            first,
            f"{growth:+.1f} %",
            f"< {RSS_GROWTH_PCT:g} %",
            growth < RSS_GROWTH_PCT,
            "MB",
        ),
        Row(
            "RSS under load (last sample) vs idle",
            samples[-1].rss,
            idle["rss"],
            f"{samples[-1].rss - idle['rss']:+.1f} MB",
            "-",
            None,
            "MB",
        ),
        Row(
            f"sequence gaps + duplicates, {len(records)} clients",
            gaps + dups,
            0,
            f"{gaps} gaps, {dups} dups",
            "0",
            gaps + dups == 0,
        ),
        Row(
            f"log clients that received every line (of {len(logs)})",
            complete,
            len(logs),
            f"{complete - len(logs):+d}",
            "all",
            complete == len(logs),
        ),
        Row(
            "syncs sent (a client fell behind; events' continuity restarts)",
            syncs,
            "-",
            "-",
            "- (reported)",
            None,
        ),
        Row(
            "API p99 per 10 s window, worst (probe: tasks + health)",
            worst_p99,
            idle["p99"],
            f"{worst_p99 - idle['p99']:+.1f} ms",
            f"≤ {P99_MS:g} ms",
            worst_p99 <= P99_MS,
            "ms",
        ),
        Row(
            "API p50 per 10 s window, worst",
            max(s.p50 for s in samples),
            idle["p50"],
            "-",
            "-",
            None,
            "ms",
        ),
        Row(
            "open fds after warm-up: max - min",
            spread(fds),
            f"{min(fds)}..{max(fds)}",
            f"{spread(fds)}",
            f"flat (≤ {FD_SPREAD})",
            spread(fds) <= FD_SPREAD,
        ),
        Row(
            "threads after warm-up: max - min",
            spread(threads),
            f"{min(threads)}..{max(threads)}",
            f"{spread(threads)}",
            f"flat (≤ {THREAD_SPREAD})",
            spread(threads) <= THREAD_SPREAD,
        ),
        Row(
            "tagged processes alive after everything stopped",
            len(stopped["alive"]),
            0,
            f"of {stopped['tags']} processes",
            "0",
            not stopped["alive"],
        ),
        Row(
            "open fds after everything stopped, but the database's",
            other_fds(stopped),
            other_fds(idle),
            f"{other_fds(stopped) - other_fds(idle):+d}",
            f"≤ baseline + {FD_MARGIN}",
            other_fds(stopped) <= other_fds(idle) + FD_MARGIN,
        ),
        Row(
            "the database's fds after everything stopped (its pool)",
            stopped["fds"] - other_fds(stopped),
            idle["fds"] - other_fds(idle),
            f"{stopped['fds'] - other_fds(stopped) - idle['fds'] + other_fds(idle):+d}",
            f"≤ baseline + {DB_FD_MARGIN}",
            stopped["fds"] - other_fds(stopped) <= idle["fds"] - other_fds(idle) + DB_FD_MARGIN,
        ),
        Row(
            "threads after everything stopped",
            stopped["threads"],
            idle["threads"],
            f"{stopped['threads'] - idle['threads']:+d}",
            f"≤ baseline + {THREAD_MARGIN} (executor)",
            stopped["threads"] <= idle["threads"] + THREAD_MARGIN,
        ),
        Row(
            "RSS after everything stopped",
            stopped["rss"],
            idle["rss"],
            f"{stopped['rss'] - idle['rss']:+.1f} MB",
            "-",
            None,
            "MB",
        ),
        Row(
            "tagged processes alive after the server stopped",
            len(stopped["alive_after_server"]),
            0,
            "-",
            "0",
            not stopped["alive_after_server"],
        ),
    ]
    return rows


def inventory_diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    parts = []
    for what in ("fds", "threads"):
        old, new = before["inventory"][what], after["inventory"][what]
        for key in sorted(set(old) | set(new)):
            delta = new.get(key, 0) - old.get(key, 0)
            if delta:
                parts.append(f"{what} {key} {delta:+d}")
    return ", ".join(parts) or "nothing"
