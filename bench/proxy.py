"""The preview proxy: page loads, added latency, throughput and cold start, each against a
baseline of the same run.

P1. Page load in Chromium of a Vite app of 300 modules (main.js → 20 modules → 280 leaves),
    through the proxy vs straight to the same Vite dev server (the preview's port): a fresh
    browser context per load, until the load event and the app's own `window.__ready`;
    loads alternate. Target: proxy ÷ direct ≤ 1.10 (medians).
P2. A fast backend (nginx serving a small static file, started by the preview's dev script in
    its sandbox): latency of GET / at concurrency 1 over one keep-alive connection, through
    the proxy vs straight to the backend, p50 and p99 (targets +0.3 ms / +2 ms); throughput
    with wrk at 64 connections through the proxy ÷ through nginx `proxy_pass` to the same
    backend (target ≥ 0.5).
P3. Cold start: POST /api/attempts/{id}/previews (wait) → the first 200 through the proxy,
    minus the same Vite command's own ready time started directly in the same worktree
    (target ≤ +150 ms, medians of alternating runs).

    .venv/bin/python bench/proxy.py [--quick] [--only p1,p2,p3]

nginx and wrk come from Debian (installed with apt when missing, as root); Chromium and Vite
from ./scripts/install --dev.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _harness import (
    Row,
    Server,
    make_repo,
    median,
    note_server_problems,
    pct,
    report,
    step,
)
from _proxy_tools import (
    VITE_BIN,
    KeepAlive,
    NginxProxy,
    Twin,
    backend_dev_script,
    backend_repo_files,
    chromium_path,
    direct_start,
    ensure_packages,
    latency,
    nginx_bin,
    page_load,
    stub_status,
    until_200,
    version_of,
    vite_app,
    vite_command,
    wrk,
)

P1_TARGET = 1.10
P2_P50_TARGET_MS = 0.3
P2_P99_TARGET_MS = 2.0
P2_RPS_TARGET = 0.5
P3_TARGET_MS = 150.0
KEY_HEADER = "X-Paddock-Preview-Key"
SERVER_ENV = {"PADDOCK_PREVIEW_IDLE_MINUTES": "0", "PADDOCK_PREVIEW_READY_TIMEOUT_S": "60"}


@dataclass(frozen=True)
class Plan:
    """How much of each: the default run, or --quick."""

    page_loads: int = 15  # P1, per path
    requests: int = 10_000  # P2 latency, per path
    wrk_rounds: int = 7  # P2 throughput, per target
    wrk_seconds: float = 5.0
    cold_starts: int = 10  # P3, per kind


QUICK = Plan(page_loads=7, requests=2000, wrk_rounds=7, wrk_seconds=1.0, cold_starts=7)


# --- setup through the API ---------------------------------------------------------------------


def project_with(server: Server, repo: Path, dev: str) -> dict[str, Any]:
    project: dict[str, Any] = server.api(
        "POST", "/api/projects", json={"path": str(repo), "scripts": {"dev": dev}}
    )
    return project


def idle_attempt(server: Server, project: dict[str, Any]) -> dict[str, Any]:
    """An attempt whose agent (`true`) has finished: its worktree waits for a preview."""
    task = server.task(project["id"], "preview bench")
    attempt = server.start_attempt(task["id"], "true")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current: dict[str, Any] = server.api("GET", f"/api/attempts/{attempt['id']}")
        if current["status"] == "awaiting_review":
            return current
        if current["status"] == "failed":
            raise RuntimeError(f"the attempt failed: {current}")
        time.sleep(0.05)
    raise RuntimeError("the attempt's turn did not end")


def start_preview(server: Server, attempt: dict[str, Any]) -> dict[str, Any]:
    [preview] = server.api("POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True})
    if preview["status"] != "running":
        raise RuntimeError(f"the preview did not start: {preview}")
    return dict(preview)


def preview_key(server: Server, preview: dict[str, Any]) -> str:
    key: str = server.api("POST", f"/api/previews/{preview['id']}/open")["key"]
    return key


def proxy_host(preview: dict[str, Any]) -> str:
    """The preview's Host, as its URL names it (the data plane's port, decision 018)."""
    return str(urlsplit(preview["url"]).netloc)


def proxy_port(preview: dict[str, Any]) -> int:
    return int(urlsplit(preview["url"]).port or 80)


# --- P2: latency and throughput against a fast backend ----------------------------------------


Target = tuple[int, dict[str, str], Callable[[], dict[str, int]]]


def throughput(
    server: Server, targets: dict[str, Target], rounds: int, seconds: float
) -> dict[str, list[dict[str, Any]]]:
    """wrk -c64 against each target in turn, `rounds` times, after a 1 s warm-up each; with
    the connections its backend accepted (its stub_status) and Paddock's CPU time during each
    run."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    for port, headers, _ in targets.values():  # warm-up
        wrk(port, 1, headers)
    names = list(targets)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # the order rotates
            port, headers, stats = targets[name]
            before, cpu = stats(), server.cpu_seconds()
            result = wrk(port, seconds, headers)
            after = stats()
            result["backend_connections_accepted"] = after["accepts"] - before["accepts"]
            result["backend_requests"] = after["requests"] - before["requests"] - 1
            result["paddock_cpu_percent"] = (server.cpu_seconds() - cpu) / seconds * 100
            runs[name].append(result)
            step(
                f"wrk round {r + 1}/{rounds} {name}: {result['rps']:,.0f} req/s, backend "
                f"accepted {result['backend_connections_accepted']:,} connections"
            )
    return runs


def measure_p2(server: Server, tmp: Path, plan: Plan) -> dict[str, Any]:
    repo = make_repo(tmp / "backend", backend_repo_files())
    project = project_with(server, repo, backend_dev_script())
    attempt = idle_attempt(server, project)
    preview = start_preview(server, attempt)
    key = preview_key(server, preview)
    host = proxy_host(preview)
    worktree = Path(attempt["worktree_path"])
    twin = Twin(backend_dev_script(".bench-nginx-direct"), worktree, server.data_dir.parent)
    backend = twin.port
    out: dict[str, Any] = {"backend_port": backend, "preview_backend_port": preview["port"]}
    try:
        with twin, NginxProxy(backend) as nginx:
            requests = plan.requests
            step(f"P2 latency: {requests} GET / per path at concurrency 1, interleaved")
            conns = {
                "direct": KeepAlive(backend, f"localhost:{backend}"),
                "paddock": KeepAlive(proxy_port(preview), host, {KEY_HEADER: key}),
                "nginx": KeepAlive(nginx.port, f"127.0.0.1:{nginx.port}"),
            }
            try:
                out["latency_ms"] = latency(conns, requests)
            finally:
                for conn in conns.values():
                    conn.close()
            rounds, seconds = plan.wrk_rounds, plan.wrk_seconds
            step(f"P2 throughput: wrk -t2 -c64, {rounds} runs of {seconds:g} s per target")
            through = {"Host": host, KEY_HEADER: key}
            targets: dict[str, Target] = {
                "paddock": (
                    proxy_port(preview),
                    through,
                    partial(stub_status, proxy_port(preview), host, {KEY_HEADER: key}),
                ),
                "nginx": (nginx.port, {}, partial(stub_status, backend)),
                "direct": (backend, {}, partial(stub_status, backend)),
            }
            out["wrk"] = throughput(server, targets, rounds, seconds)
            out["wrk_seconds"] = seconds
    finally:
        server.api("DELETE", f"/api/previews/{preview['id']}")
    return out


# --- P3: cold start ----------------------------------------------------------------------------


def paddock_start(server: Server, attempt: dict[str, Any]) -> dict[str, Any]:
    """POST the preview (wait) → its first 200 through the proxy, without the /open call the
    bench makes in between for the key (timed apart)."""
    start = time.perf_counter()
    preview = start_preview(server, attempt)
    answered = time.perf_counter()
    key = preview_key(server, preview)
    keyed = time.perf_counter()
    ok = until_200(proxy_port(preview), proxy_host(preview), {KEY_HEADER: key})
    server.api("DELETE", f"/api/previews/{preview['id']}")
    total = (answered - start) + (ok - keyed)
    return {
        "ms": total * 1000,
        "post_ms": (answered - start) * 1000,
        "open_ms": (keyed - answered) * 1000,
        "first_200_ms": (ok - keyed) * 1000,
    }


def measure_p3(server: Server, attempt: dict[str, Any], runs: int) -> dict[str, Any]:
    worktree = Path(attempt["worktree_path"])
    step(f"P3 cold start: {runs} runs each, alternating")
    direct_start(worktree, server.data_dir.parent)  # warm-up: page cache, Vite's .vite dir
    samples: dict[str, Any] = {"paddock": [], "direct_ms": []}
    for i in range(runs):
        order = ("paddock", "direct") if i % 2 == 0 else ("direct", "paddock")
        for kind in order:
            if kind == "paddock":
                samples["paddock"].append(paddock_start(server, attempt))
            else:
                samples["direct_ms"].append(direct_start(worktree, server.data_dir.parent))
        step(
            f"P3 run {i + 1}/{runs}: paddock {samples['paddock'][-1]['ms']:.0f} ms, direct "
            f"{samples['direct_ms'][-1]:.0f} ms"
        )
    return samples


# --- P1: page load in Chromium -----------------------------------------------------------------


def measure_p1(
    server: Server, preview: dict[str, Any], key: str, runs: int, direct_port: int
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    targets = {
        "paddock": (preview["url"], {KEY_HEADER: key}),
        "direct": (f"http://127.0.0.1:{direct_port}/", {}),
    }
    out: dict[str, Any] = {"paddock": [], "direct": [], "errors": []}
    step(f"P1 page loads: {runs} each, alternating, a fresh context per load")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        out["browser"] = browser.version
        try:
            for url, headers in targets.values():  # warm-up: Vite's transforms, the browser
                page_load(browser, url, headers)
            for i in range(runs):
                order = list(targets) if i % 2 == 0 else list(reversed(targets))
                seen = []
                for name in order:
                    url, headers = targets[name]
                    try:
                        cpu = server.cpu_seconds()
                        out[name].append(page_load(browser, url, headers))
                        out[name][-1]["paddock_cpu_ms"] = (server.cpu_seconds() - cpu) * 1000
                        seen.append(f"{name} {out[name][-1]['ms']:.0f} ms")
                    except Exception as exc:  # noted; a bench does not crash on a timeout
                        out["errors"].append(f"{name}: {str(exc).splitlines()[0]}")
                        seen.append(f"{name} failed ({out['errors'][-1]})")
                step(f"P1 load {i + 1}/{runs}: " + ", ".join(seen))
        finally:
            browser.close()
    return out


# --- the table ---------------------------------------------------------------------------------


def not_measured(measurement: str, target: str, why: str) -> Row:
    return Row(measurement, "not measured", "-", why, target, None)


def p1_rows(p1: dict[str, Any], notes: list[str]) -> list[Row]:
    if p1["errors"]:
        notes.append(f"P1: {len(p1['errors'])} loads failed, e.g. {p1['errors'][0]}")
    pad, direct = p1["paddock"], p1["direct"]
    if not pad or not direct:
        return [not_measured("P1 Vite app page load", f"≤ {P1_TARGET:.2f}x", "loads failed")]

    def med(runs: list[dict[str, Any]], key: str) -> float:
        return median([float(r[key]) for r in runs])

    ratio = med(pad, "ms") / med(direct, "ms")
    notes.append(
        f"P1 p90: through the proxy {pct([float(r['ms']) for r in pad], 90):.0f} ms, direct "
        f"{pct([float(r['ms']) for r in direct], 90):.0f} ms"
    )
    notes.append(
        f"P1: {len(pad)} / {len(direct)} loads; {pad[0]['requests']} requests per load; "
        f"medians through the proxy / direct: first byte {med(pad, 'ttfb_ms'):.0f} / "
        f"{med(direct, 'ttfb_ms'):.0f} ms, DOMContentLoaded {med(pad, 'dcl_ms'):.0f} / "
        f"{med(direct, 'dcl_ms'):.0f} ms, Playwright's goto → ready {med(pad, 'wall_ms'):.0f} / "
        f"{med(direct, 'wall_ms'):.0f} ms; a module request's wait (requestStart → "
        f"responseStart, the median of a load) {med(pad, 'request_wait_ms'):.1f} / "
        f"{med(direct, 'request_wait_ms'):.1f} ms; Paddock's server CPU per load "
        f"{med(pad, 'paddock_cpu_ms'):.0f} / {med(direct, 'paddock_cpu_ms'):.0f} ms"
    )
    bad = [r["not_200"] for r in pad + direct if r["not_200"]]
    if bad:
        notes.append(f"P1: some module requests were not answered 200: {bad[0][:3]}")
    return [
        Row(
            "P1 Vite app (300 modules) page load, Chromium",
            med(pad, "ms"),
            med(direct, "ms"),
            f"{ratio:.2f}x",
            f"≤ {P1_TARGET:.2f}x",
            ratio <= P1_TARGET,
            "ms",
        )
    ]


def p2_rows(p2: dict[str, Any], notes: list[str]) -> list[Row]:
    lat = p2["latency_ms"]
    rows = []
    for p, target in ((50, P2_P50_TARGET_MS), (99, P2_P99_TARGET_MS)):
        paddock, direct = pct(lat["paddock"], p), pct(lat["direct"], p)
        rows.append(
            Row(
                f"P2 GET / at concurrency 1, p{p}",
                paddock,
                direct,
                f"+{paddock - direct:.3f} ms",
                f"≤ +{target:g} ms",
                paddock - direct <= target,
                "ms",
            )
        )
    runs = p2["wrk"]
    paddock = median([r["rps"] for r in runs["paddock"]])
    nginx = median([r["rps"] for r in runs["nginx"]])
    rows.append(
        Row(
            "P2 throughput, wrk -c64 (baseline: nginx proxy_pass)",
            paddock,
            nginx,
            f"{paddock / nginx:.2f}x",
            f"≥ {P2_RPS_TARGET:g}x",
            paddock / nginx >= P2_RPS_TARGET,
            "req/s",
        )
    )
    notes.append(
        f"P2 latency ({len(lat['paddock'])} requests per path): nginx proxy_pass p50 "
        f"{pct(lat['nginx'], 50):.3f} ms, p99 {pct(lat['nginx'], 99):.3f} ms "
        f"(+{pct(lat['nginx'], 50) - pct(lat['direct'], 50):.3f} / "
        f"+{pct(lat['nginx'], 99) - pct(lat['direct'], 99):.3f} over direct); Paddock p90 "
        f"{pct(lat['paddock'], 90):.3f} ms, max {max(lat['paddock']):.1f} ms"
    )
    spread = {name: [r["rps"] for r in rs] for name, rs in runs.items()}
    notes.append(
        "P2 throughput p10 / p90 (req/s): "
        + ", ".join(f"{n} {pct(v, 10):,.0f} / {pct(v, 90):,.0f}" for n, v in spread.items())
    )
    direct = median([r["rps"] for r in runs["direct"]])
    accepted = [r["backend_connections_accepted"] for r in runs["paddock"]]
    served = [r["backend_requests"] for r in runs["paddock"]]
    notes.append(
        f"P2 throughput: the backend alone (wrk straight at it) {direct:,.0f} req/s; Paddock's "
        f"server used {median([r['paddock_cpu_percent'] for r in runs['paddock']]):.0f}% CPU "
        f"under wrk; upstream connections the backend accepted during a {p2['wrk_seconds']:g} s "
        f"Paddock run: {median([float(a) for a in accepted]):,.0f} for "
        f"{median([float(s) for s in served]):,.0f} requests (nginx: "
        f"{median([float(r['backend_connections_accepted']) for r in runs['nginx']]):,.0f})"
    )
    errors = [
        f"{name}: {r['non_2xx']} non-2xx, socket errors {r['socket_errors']}"
        for name, rs in runs.items()
        for r in rs
        if r["non_2xx"] or r["socket_errors"]
    ]
    if errors:
        notes.append("P2 wrk errors: " + "; ".join(errors[:4]))
    return rows


def p3_rows(p3: dict[str, Any], notes: list[str]) -> list[Row]:
    paddock = median([r["ms"] for r in p3["paddock"]])
    direct = median(p3["direct_ms"])
    notes.append(
        f"P3 p90: Paddock {pct([r['ms'] for r in p3['paddock']], 90):.0f} ms, direct "
        f"{pct(p3['direct_ms'], 90):.0f} ms"
    )
    notes.append(
        f"P3: {len(p3['direct_ms'])} runs each; Paddock's time = POST answered "
        f"(median {median([r['post_ms'] for r in p3['paddock']]):.0f} ms) + first proxied "
        f"GET / until 200 ({median([r['first_200_ms'] for r in p3['paddock']]):.1f} ms); the "
        f"bench's /open call for the key in between "
        f"({median([r['open_ms'] for r in p3['paddock']]):.1f} ms) is left out"
    )
    return [
        Row(
            "P3 cold start → first 200 (Vite)",
            paddock,
            direct,
            f"+{paddock - direct:.0f} ms",
            f"≤ +{P3_TARGET_MS:g} ms",
            paddock - direct <= P3_TARGET_MS,
            "ms",
        )
    ]


HOW = {
    "p1": [
        "P1: the proxied context sends X-Paddock-Preview-Key on every request "
        "(extra_http_headers) instead of redeeming an Open link, so only the page load is "
        "timed; time = max(loadEventEnd, the app's __readyAt), from navigation start, median",
    ],
    "p2": [
        "P2 backend: nginx serving a {size}-byte static index.html (one worker, access log "
        "off), started by the preview's dev script inside its sandbox on $PORT; the direct "
        "baseline, the nginx proxy's upstream and Paddock's proxy all end at it",
        "P2 nginx proxy: one worker (Paddock serves from one process), upstream keepalive 64, "
        'proxy_http_version 1.1, Connection "", Host and X-Forwarded-* set like Paddock\'s',
        "P2 latency: one keep-alive connection per path (raw socket, TCP_NODELAY), GET / "
        "interleaved direct/paddock/nginx with a rotating order, after 200 warm-up requests "
        "each",
    ],
    "p3": [
        "P3: the direct start runs the same command in the same worktree as the worktree's "
        "owner (the sandbox user), no sandbox, GET / polled every 5 ms",
    ],
}


@dataclass
class Outcome:
    """What the parts found: their rows (by part), notes, raw details, tool versions."""

    rows: dict[str, list[Row]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)


def run_p2(server: Server, tmp: Path, plan: Plan, out: Outcome) -> None:
    missing = ensure_packages({"nginx": "nginx-light", "wrk": "wrk"})
    if missing:
        why = "; ".join(f"{cmd}: {reason}" for cmd, reason in missing.items())
        step(f"P2 not measured: {why}")
        out.rows["p2"] = [not_measured(f"P2 {name}", "-", why) for name in ("p50", "p99", "rps")]
        return
    out.versions["nginx"] = version_of([nginx_bin(), "-v"]).removeprefix("nginx version: ")
    out.versions["wrk"] = version_of(["wrk", "-v"]).split(" [")[0]
    out.details["p2"] = measure_p2(server, tmp, plan)
    notes = out.notes.setdefault("p2", [])
    out.rows["p2"] = p2_rows(out.details["p2"], notes)
    size = len(backend_repo_files()["www/index.html"])
    notes += [note.format(size=size) for note in HOW["p2"]]


def run_vite(server: Server, tmp: Path, plan: Plan, only: set[str], out: Outcome) -> None:
    if not VITE_BIN.is_file():
        for part in sorted(only & {"p1", "p3"}):
            out.rows[part] = [not_measured(part.upper(), "-", "no Vite: ./scripts/install --dev")]
        return
    out.versions["vite"] = version_of(["node", str(VITE_BIN), "--version"])
    repo = make_repo(tmp / "vite-app", vite_app())
    project = project_with(server, repo, vite_command())
    attempt = idle_attempt(server, project)
    if "p3" in only:
        out.details["p3"] = measure_p3(server, attempt, plan.cold_starts)
        notes = out.notes.setdefault("p3", [])
        out.rows["p3"] = p3_rows(out.details["p3"], notes)
        notes += HOW["p3"]
    if "p1" in only and chromium_path() is None:
        out.rows["p1"] = [not_measured("P1", "-", "no Chromium: ./scripts/install --dev")]
    elif "p1" in only:
        preview = start_preview(server, attempt)
        key = preview_key(server, preview)
        worktree = Path(attempt["worktree_path"])
        with Twin(vite_command("$PORT"), worktree, server.data_dir.parent) as twin:
            out.details["p1"] = measure_p1(server, preview, key, plan.page_loads, twin.port)
        notes = out.notes.setdefault("p1", [])
        out.rows["p1"] = p1_rows(out.details["p1"], notes)
        notes += HOW["p1"]
        out.versions["chromium"] = out.details["p1"]["browser"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="few runs, short wrk runs")
    parser.add_argument("--only", default="p1,p2,p3", help="a comma list of p1, p2, p3")
    args = parser.parse_args()
    only = {part.strip().lower() for part in args.only.split(",")}
    plan = QUICK if args.quick else Plan()
    out = Outcome(details={"quick": args.quick, "plan": asdict(plan)})
    tmp = Path(tempfile.mkdtemp(prefix="paddock-bench-proxy-"))
    server = Server(env=SERVER_ENV)
    try:
        server.start()
        if "p2" in only:
            run_p2(server, tmp, plan, out)
        if only & {"p1", "p3"}:
            run_vite(server, tmp, plan, only, out)
    finally:
        server.stop()
        problems = server.problems(keep_as="proxy")
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    parts = ("p1", "p2", "p3")
    rows = [row for part in parts for row in out.rows.get(part, [])]
    notes = [note for part in parts for note in out.notes.get(part, [])]
    notes.append("versions: " + ", ".join(f"{k} {v}" for k, v in out.versions.items()))
    out.details["versions"] = out.versions
    note_server_problems("proxy", problems, notes, out.details)
    report("proxy", rows, out.details, notes)


if __name__ == "__main__":
    main()
