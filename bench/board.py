"""Board and log tab: the board page with 10k tasks in 6 columns; a 100k-line log in the browser.

1. Board page server time. A real git repository is registered as a project through the API
   (the server creates the schema and the 5 default steps), the server is stopped, a sixth
   step and N tasks (default 10,000, spread over the 6 columns) are inserted straight into
   its SQLite database with the project's own store code (`paddock.store.db.Database`,
   `StepRow`, `TaskRow`; the API would take minutes), and the server is started again on that
   data dir. Some cards get attempts through the API (a `script` agent running `true`, so the
   cards show an attempt status). Then, over one keep-alive httpx connection, after a
   warm-up: `GET /projects/{id}` (the HTML board: the first 50 cards of each column) and
   `GET /ui/steps/{step_id}/cards?offset=50` (a column's next page), median and p90.
   Baseline: `GET /api/health` on the same connection. Target: board page ≤ 100 ms.
2. Log tab with a 100k-line log. An attempt's agent prints `seq 1 100000`; once it has ended,
   Playwright drives Debian's Chromium to `/attempts/{id}` and measures in the page (times
   from navigation start, `performance.now()`): the first frame with a log row laid out in
   `#logview`; the frame in which `#log-status` reports every line; then scroll smoothness:
   `#logview` is scrolled top to bottom in ~2 s by requestAnimationFrame steps and the frame
   intervals are recorded. Baseline: the same page for a process with 100 lines. Report only;
   first paint ≤ 1000 ms is a soft target.

    .venv/bin/python bench/board.py [--quick] [--only board,log]

--quick: 2,000 tasks, 50 attempts, 30k log lines, fewer requests and page loads.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from _harness import (
    SETTLED,
    Row,
    Server,
    SSEThread,
    make_repo,
    median,
    note_server_problems,
    pct,
    report,
    small_files,
    step,
)
from sqlalchemy import insert

from paddock.domain.names import new_id
from paddock.domain.workflow import POSITION_GAP
from paddock.store.db import Database
from paddock.store.tables.projects import StepRow
from paddock.store.tables.tasks import TaskRow

if TYPE_CHECKING:  # the board part runs without Playwright; the log part imports it
    from playwright.sync_api import Browser

SIXTH_STEP = ("Blocked", "#dc2626")
PAGE = 50  # cards per column page (paddock.services.board.PAGE_SIZE)
LOG_PAGE = 10_000  # lines per request logview.js asks for (its PAGE_SIZE, the API's maximum)
BOARD_TARGET_MS = 100.0
FIRST_PAINT_TARGET_MS = 1000.0
SCROLL_MS = 2000

_TEXT = (
    "fix refactor add remove speed up document test migrate rename split merge cache the "
    "login page board column card attempt worktree branch log viewer settings api endpoint "
    "database index query dark mode keyboard shortcut search filter export import"
)
WORDS = _TEXT.split(" ")


# --- 1. the board ------------------------------------------------------------------------------


def title_of(i: int) -> str:
    words = [WORDS[(i * 7 + k * 13) % len(WORDS)] for k in range(3 + i % 6)]
    return f"#{i} " + " ".join(words).capitalize()


def seed_board(data_dir: Path, project_id: str, tasks: int) -> dict[str, list[str]]:
    """A sixth step and `tasks` tasks, straight into the store of a stopped server.
    Returns each step's task ids in board order (steps in board order)."""
    db = Database(f"sqlite:///{data_dir / 'paddock.db'}")
    try:
        with db.session() as session:
            steps = list(
                session.query(StepRow)
                .filter(StepRow.project_id == project_id)
                .order_by(StepRow.position)
            )
            name, color = SIXTH_STEP
            sixth = StepRow(
                id=new_id(),
                project_id=project_id,
                name=name,
                position=max(s.position for s in steps) + 1,
                color=color,
            )
            session.add(sixth)
            session.flush()
            step_ids = [s.id for s in steps] + [sixth.id]
            order: dict[str, list[str]] = {sid: [] for sid in step_ids}
            rows = []
            for i in range(tasks):
                sid = step_ids[i % len(step_ids)]
                tid = new_id()
                order[sid].append(tid)
                rows.append(
                    {
                        "id": tid,
                        "project_id": project_id,
                        "step_id": sid,
                        "title": title_of(i),
                        "description": f"Task {i}. " + " ".join(WORDS[i % 9 :][:20]) * 2,
                        "position": len(order[sid]) * POSITION_GAP,
                    }
                )
            session.execute(insert(TaskRow), rows)
    finally:
        db.dispose()
    return order


def run_attempts(
    server: Server,
    events: SSEThread,
    task_ids: list[str],
    command: str,
    window: int = 12,
    timeout: float = 900,
) -> tuple[list[str], list[str]]:
    """Start one attempt per entry of `task_ids`, at most `window` at a time, and wait until
    each is idle or failed. Returns (attempt ids, failures)."""
    queue = list(task_ids)
    ids: list[str] = []
    failures: list[str] = []
    pending: set[str] = set()
    deadline = time.monotonic() + timeout
    while queue or pending:
        while queue and len(pending) < window:
            attempt = server.start_attempt(queue.pop(0), command)
            ids.append(attempt["id"])
            pending.add(attempt["id"])
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"{len(pending) + len(queue)} attempts did not finish")
        event = events.next(timeout=left)
        if event.event != "attempt.updated":
            continue
        data = event.json()["data"]
        if data["id"] in pending and data["status"] in SETTLED:
            pending.discard(data["id"])
            if data["status"] == "failed":
                failures.append(f"{data['id']}: {data.get('error')}")
    return ids, failures


def timed_gets(
    client: httpx.Client, path: str, runs: int, warmup: int = 5
) -> tuple[list[float], str]:
    """Response times (ms) of `runs` GETs after `warmup` ones; the last body."""
    for _ in range(warmup):
        client.get(path).raise_for_status()
    samples = []
    text = ""
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(path)
        response.read()
        samples.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
        text = response.text
    return samples, text


def cards_in(html: str) -> int:
    return html.count('class="card"')


def measure_board(server: Server, project_id: str, first_step: str, runs: int) -> dict[str, Any]:
    board_path = f"/projects/{project_id}"
    more_path = f"/ui/steps/{first_step}/cards?offset={PAGE}"
    # Interleaved rounds, so a slow minute of the machine hits every series alike.
    board_ms: list[float] = []
    more_ms: list[float] = []
    health_ms: list[float] = []
    board_html = more_html = ""
    with httpx.Client(base_url=server.url, timeout=60, headers=server.client.headers) as client:
        rounds = 5
        per = -(-runs // rounds)
        for i in range(rounds):
            warmup = 5 if i == 0 else 0
            s, board_html = timed_gets(client, board_path, per, warmup)
            board_ms += s
            s, more_html = timed_gets(client, more_path, per, warmup)
            more_ms += s
            s, _ = timed_gets(client, "/api/health", per, warmup)
            health_ms += s
    return {
        "board_ms": board_ms,
        "more_ms": more_ms,
        "health_ms": health_ms,
        "board_bytes": len(board_html.encode()),
        "board_cards": cards_in(board_html),
        "board_columns": board_html.count('class="column"'),
        "more_bytes": len(more_html.encode()),
        "more_cards": cards_in(more_html),
        "board_badges": len(re.findall(r'class="badge status-', board_html)),
    }


# --- 2. the log tab ----------------------------------------------------------------------------

# Runs in the page before its own scripts. logview.js (paddock/web/static/js/logview.js) keeps
# the lines in arrays and renders only the rows around the visible window as `.log-row`
# elements, in one requestAnimationFrame callback; #log-status reads "30,002 lines · exited 0"
# (the count includes Paddock's own system lines, so the expected number is the process's
# line_count). MutationObservers see the first row inserted and the status first showing the
# full count; the time is then taken in a task queued from there (setTimeout 0), which runs
# after that frame's rendering: "painted" means laid out and handed to the compositor.
# Times are performance.now(): ms since navigation start.
PROBE = """
(() => {
  const expected = %d;
  const b = (window.__bench = {
    firstRow: null, firstRowInserted: null, firstRowVisible: null,
    loaded: null, loadedSeen: null, statuses: [],
  });
  const afterRender = (fn) => setTimeout(fn, 0);
  const numbers = (text) => (text.match(/\\d[\\d,.\\u00a0\\u202f' ]*\\d|\\d/g) || [])
    .map((s) => Number(s.replace(/\\D/g, "")));
  function visible(view) {
    const box = view.getBoundingClientRect();
    for (const row of view.querySelectorAll(".log-row")) {
      const r = row.getBoundingClientRect();
      if (r.height > 0 && r.bottom > box.top && r.top < box.bottom) return true;
    }
    return false;
  }
  function watch() {
    const view = document.getElementById("logview");
    const status = document.getElementById("log-status");
    if (!view || !status) return;
    const rows = new MutationObserver(() => {
      if (!view.querySelector(".log-row")) return;
      rows.disconnect();
      b.firstRowInserted = performance.now();
      afterRender(() => { b.firstRow = performance.now(); b.firstRowVisible = visible(view); });
    });
    rows.observe(view, { childList: true, subtree: true });
    const seen = new MutationObserver(() => {
      const text = status.textContent.trim();
      b.statuses.push([Math.round(performance.now()), text]);
      if (b.loadedSeen === null && numbers(text).includes(expected)) {
        b.loadedSeen = performance.now();
        afterRender(() => { b.loaded = performance.now(); });
      }
    });
    seen.observe(status, { childList: true, characterData: true, subtree: true });
  }
  // "interactive" comes before deferred scripts (logview.js) run.
  document.addEventListener("readystatechange", () => {
    if (document.readyState === "interactive") watch();
  });
})();
"""

SCROLL = """
async (duration) => {
  const view = document.getElementById("logview");
  const follow = document.getElementById("log-autoscroll");
  if (follow && follow.checked) follow.click();  // a programmatic scroll, not a follow
  view.scrollTop = 0;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const max = view.scrollHeight - view.clientHeight;
  const frames = [];
  return await new Promise((resolve) => {
    let start = null, last = null;
    function step(ts) {
      if (start === null) start = ts; else frames.push(ts - last);
      last = ts;
      const p = Math.min(1, (ts - start) / duration);
      view.scrollTop = p * max;
      if (p < 1) requestAnimationFrame(step);
      else requestAnimationFrame(() => resolve({
        frames, max, scrollTop: view.scrollTop, elements: view.getElementsByTagName("*").length,
      }));
    }
    requestAnimationFrame(step);
  });
}
"""


def probe_script(expected: int) -> str:
    return PROBE % expected


def chromium_path() -> str:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("Chromium is not installed: run ./scripts/install --dev")


def load_log_page(
    browser: Browser, url: str, expected: int, scroll: bool, timeout_s: float = 120
) -> dict[str, Any]:
    """Open the workspace page in a fresh context and wait until its log shows `expected`
    lines; times in ms from navigation start."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        page.on(
            "console",
            lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.add_init_script(probe_script(expected))
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        out: dict[str, Any] = {"errors": errors}
        try:
            page.wait_for_function(
                "window.__bench && window.__bench.firstRow !== null && window.__bench.loaded"
                " !== null",
                timeout=timeout_s * 1000,
                polling=100,
            )
        except Exception as exc:  # report what was seen; a bench does not crash on a timeout
            out["timeout"] = str(exc).splitlines()[0]
        out["wall_s"] = time.perf_counter() - t0
        probe = page.evaluate("window.__bench")
        out.update(
            first_row_ms=probe["firstRow"],
            first_row_inserted_ms=probe["firstRowInserted"],
            first_row_visible=probe["firstRowVisible"],
            loaded_ms=probe["loaded"],
            loaded_seen_ms=probe["loadedSeen"],
            statuses=probe["statuses"][-20:],
            fcp_ms=page.evaluate(
                "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"
                " ?? null"
            ),
            dom_content_loaded_ms=page.evaluate(
                "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
            ),
            # The requests for the stored log's pages: when each started and ended.
            log_pages=page.evaluate(
                "performance.getEntriesByType('resource').filter((e) => e.name.includes('/logs?'))"
                ".map((e) => [Math.round(e.startTime), Math.round(e.responseStart),"
                " Math.round(e.responseEnd), e.encodedBodySize])"
            ),
            heap_mb=page.evaluate(
                "performance.memory ? performance.memory.usedJSHeapSize / 1048576 : null"
            ),
        )
        if scroll and "timeout" not in out:
            page.wait_for_timeout(300)  # let the last render settle
            out["scroll"] = page.evaluate(SCROLL, SCROLL_MS)
        return out
    finally:
        context.close()


def finished_process(server: Server, attempt_id: str, lines: int) -> dict[str, Any]:
    """The attempt's agent process once its line count is stored (it is written just after
    the log closes, so it may lag the attempt's idle event a little)."""
    deadline = time.monotonic() + 30
    while True:
        proc = server.agent_process(attempt_id)
        if proc["line_count"] >= lines or time.monotonic() > deadline:
            return proc
        time.sleep(0.1)


def measure_log(
    server: Server, events: SSEThread, project_id: str, lines: int, runs: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"lines": lines, "runs": runs}
    procs: dict[int, dict[str, Any]] = {}
    for count in (lines, 100):
        task = server.task(project_id, f"log tab {count} lines")
        t0 = time.perf_counter()
        ids, failures = run_attempts(server, events, [task["id"]], f"seq 1 {count}", window=1)
        if failures:
            raise RuntimeError(f"the {count}-line attempt failed: {failures[0]}")
        proc = finished_process(server, ids[0], count)
        out[f"ingest_{count}_s"] = time.perf_counter() - t0
        procs[count] = {"attempt_id": ids[0], **proc}
    out["processes"] = procs
    # What the page waits for before its first rows: the first page of the stored log.
    with httpx.Client(base_url=server.url, timeout=60, headers=server.client.headers) as client:
        for count, proc in procs.items():
            path = f"/api/processes/{proc['id']}/logs?after=0&limit={LOG_PAGE}"
            samples, text = timed_gets(client, path, 5, warmup=1)
            out[f"api_first_page_{count}"] = {"ms": samples, "bytes": len(text.encode())}
            # The whole stored log by pages, as logview.js asks for it, from httpx.
            t0 = time.perf_counter()
            after, pages = 0, 0
            while True:
                page = client.get(
                    f"/api/processes/{proc['id']}/logs", params={"after": after, "limit": LOG_PAGE}
                ).json()
                pages += 1
                after = page["next_after"]
                if len(page["lines"]) < LOG_PAGE:
                    break
            out[f"api_all_pages_{count}"] = {
                "ms": (time.perf_counter() - t0) * 1000,
                "pages": pages,
            }
    logview = Path(__file__).resolve().parent.parent / "paddock/web/static/js/logview.js"
    out["logview_js_exists"] = logview.exists()
    if not logview.exists():
        step("log tab: paddock/web/static/js/logview.js is MISSING: the page shows no log")
    timeout_s = 120 if logview.exists() else 20
    from playwright.sync_api import sync_playwright  # here: --only board needs no browser

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        out["browser"] = browser.version
        try:
            small = procs[100]
            # One throw-away load: the browser's own start-up is not the page's.
            load_log_page(
                browser, f"{server.url}/attempts/{small['attempt_id']}", small["line_count"], False
            )
            for kind, count, scroll in (("big", lines, True), ("small", 100, False)):
                proc = procs[count]
                url = f"{server.url}/attempts/{proc['attempt_id']}"
                results = []
                for i in range(runs):
                    r = load_log_page(browser, url, proc["line_count"], scroll, timeout_s)
                    results.append(r)
                    frames = r.get("scroll", {}).get("frames", [])
                    step(
                        f"log tab {count:,} lines, load {i + 1}/{runs}: first row "
                        f"{r['first_row_ms'] or float('nan'):.0f} ms, all loaded "
                        f"{r['loaded_ms'] or float('nan'):.0f} ms"
                        + (
                            f", scroll: {len(frames)} frames, median {median(frames):.1f} ms"
                            if frames
                            else ""
                        )
                        + (f" ({r['timeout']})" if "timeout" in r else "")
                    )
                out[kind] = results
        finally:
            browser.close()
    return out


# --- report ------------------------------------------------------------------------------------


def ms_row(name: str, paddock: float, baseline: float, target: str, met: bool | None) -> Row:
    return Row(name, paddock, baseline, f"{paddock - baseline:+.1f} ms", target, met, "ms")


def board_rows(b: dict[str, Any], tasks: int) -> tuple[list[Row], list[str]]:
    bm, hm, mm = median(b["board_ms"]), median(b["health_ms"]), median(b["more_ms"])
    b90, h90 = pct(b["board_ms"], 90), pct(b["health_ms"], 90)
    rows = [
        ms_row(
            f"board page, {tasks:,} tasks / 6 columns, median",
            bm,
            hm,
            f"≤ {BOARD_TARGET_MS:.0f} ms",
            bm <= BOARD_TARGET_MS,
        ),
        ms_row("board page, p90", b90, h90, f"≤ {BOARD_TARGET_MS:.0f} ms", b90 <= BOARD_TARGET_MS),
        ms_row(f"next page of a column (offset={PAGE}), median", mm, hm, "-", None),
        Row("board page size", b["board_bytes"] / 1024, "-", "-", "-", None, "KB"),
        Row(
            "cards rendered on the board page",
            float(b["board_cards"]),
            "-",
            f"{b['board_columns']} columns",
            "-",
            None,
        ),
    ]
    notes = [
        f"the column page (offset={PAGE}) is {b['more_bytes'] / 1024:.0f} KB with "
        f"{b['more_cards']} cards; {b['board_badges']} cards on the board page show an attempt "
        f"status; {len(b['board_ms'])} requests each, keep-alive httpx client"
    ]
    return rows, notes


def _med(results: list[dict[str, Any]], key: str) -> float:
    return median([r[key] for r in results if r.get(key) is not None])


def log_rows(lg: dict[str, Any]) -> tuple[list[Row], list[str]]:
    big, small = lg["big"], lg["small"]
    n = lg["lines"]
    first, first0 = _med(big, "first_row_ms"), _med(small, "first_row_ms")
    loaded, loaded0 = _med(big, "loaded_ms"), _med(small, "loaded_ms")
    frames = [f for r in big for f in r.get("scroll", {}).get("frames", [])]
    long_frames = [sum(f > 50 for f in r["scroll"]["frames"]) for r in big if "scroll" in r]
    rows = [
        ms_row(
            f"log tab {n:,} lines: first row painted, median",
            first,
            first0,
            f"≤ {FIRST_PAINT_TARGET_MS:.0f} ms (soft)",
            first <= FIRST_PAINT_TARGET_MS,
        ),
        ms_row(f"log tab {n:,} lines: all lines loaded, median", loaded, loaded0, "report", None),
        Row(
            "scroll the whole log in 2 s: median frame",
            median(frames),
            "-",
            "-",
            "report",
            None,
            "ms",
        ),
        Row("scroll: p95 frame", pct(frames, 95), "-", "-", "report", None, "ms"),
        Row(
            "scroll: frames > 50 ms (per run, median)",
            median([float(c) for c in long_frames]),
            "-",
            f"of ~{len(frames) / max(1, len(long_frames)):.0f} frames",
            "report",
            None,
        ),
    ]
    notes = [
        f"log tab: baseline = the same page for a 100-line process; {len(big)} loads each in a "
        f"fresh browser context; Chromium {lg.get('browser')} headless, --disable-gpu"
    ]
    fcp = _med(big, "fcp_ms")
    heap = _med(big, "heap_mb")
    elements = [r["scroll"]["elements"] for r in big if "scroll" in r]
    notes.append(
        f"log tab {n:,} lines: first contentful paint {fcp:.0f} ms, JS heap {heap:.0f} MB after "
        f"load, {median([float(e) for e in elements]) if elements else float('nan'):.0f} elements "
        f"in #logview after the scroll; last #log-status: {big[-1]['statuses'][-1:]}"
    )
    api, api0 = lg[f"api_first_page_{n}"], lg["api_first_page_100"]
    inserted = _med(big, "first_row_inserted_ms")
    notes.append(
        f"before its first rows the page waits for GET /api/processes/{{id}}/logs?limit="
        f"{LOG_PAGE:,} (the first page of the stored log): {median(api['ms']):.0f} ms for "
        f"{api['bytes'] / 1e6:.1f} MB from httpx (100-line log: {median(api0['ms']):.1f} ms); "
        f"first row inserted at {inserted:.0f} ms, rendered by {first:.0f} ms; all "
        f"{lg[f'api_all_pages_{n}']['pages']} pages one after the other from httpx: "
        f"{lg[f'api_all_pages_{n}']['ms']:.0f} ms"
    )
    pages = [r["log_pages"] for r in big if r.get("log_pages")]
    if pages:
        notes.append(
            "in the browser (medians): DOMContentLoaded "
            f"{_med(big, 'dom_content_loaded_ms'):.0f} ms; first log page requested at "
            f"{median([p[0][0] for p in pages]):.0f} ms, answered "
            f"{median([p[0][2] - p[0][0] for p in pages]):.0f} ms later; {len(pages[0])} "
            f"requests, each answered in {median([x[2] - x[0] for p in pages for x in p]):.0f} "
            f"ms (first byte after {median([x[1] - x[0] for p in pages for x in p]):.0f} ms)"
        )
    if not lg.get("logview_js_exists"):
        notes.append(
            "paddock/web/static/js/logview.js did not exist: the log tab numbers are empty"
        )
    timeouts = [r["timeout"] for r in big + small if "timeout" in r]
    if timeouts:
        notes.append(f"{len(timeouts)} page loads timed out, e.g.: {timeouts[0]}")
    errors = [e for r in big + small for e in r["errors"]]
    if errors:
        notes.append(f"{len(errors)} browser errors, e.g.: {errors[0]}")
    return rows, notes


def main() -> None:  # noqa: PLR0915 (one script, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 tasks, 30k log lines")
    parser.add_argument("--only", default="board,log", help="board, log or both (default)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if args.quick:
        tasks, attempts, lines, requests, loads = 2000, 50, 30_000, 30, 3
    else:
        tasks, attempts, lines, requests, loads = 10_000, 200, 100_000, 50, 5

    rows: list[Row] = []
    notes: list[str] = []
    details: dict[str, Any] = {
        "tasks": tasks,
        "attempts": attempts,
        "log_lines": lines,
        "requests": requests,
        "page_loads": loads,
    }
    with tempfile.TemporaryDirectory(prefix="paddock-bench-board-") as tmp:
        root = Path(tmp)
        repo = make_repo(root / "repo", small_files(20))
        data = root / "data"
        step("first start: schema and the project")
        with Server(data) as server:
            project = server.project(repo)
        step(f"server stopped; inserting a sixth step and {tasks:,} tasks into its database")
        t0 = time.perf_counter()
        order = seed_board(data, project["id"], tasks)
        details["seed_s"] = time.perf_counter() - t0
        step(f"seeded in {details['seed_s']:.1f} s; starting the server again")
        server = Server(data).start()
        try:
            events = SSEThread(
                server.url, f"/api/events?project_id={project['id']}", token=server.token
            )
            try:
                if "board" in only:
                    # Attempts on cards of the first pages (so the board shows them); a tenth
                    # of those cards get a second one.
                    firsts = [tid for ids in order.values() for tid in ids[:PAGE]]
                    picked = firsts[:: max(1, len(firsts) // attempts)][: attempts * 9 // 10]
                    picked += picked[: attempts - len(picked)]
                    step(f"{len(picked)} attempts (script agent: true) on {len(set(picked))} cards")
                    t0 = time.perf_counter()
                    _, failures = run_attempts(server, events, picked, "true")
                    details["attempts_s"] = time.perf_counter() - t0
                    details["attempt_failures"] = failures[:20]
                    step(
                        f"attempts done in {details['attempts_s']:.1f} s "
                        f"({len(failures)} failed); measuring GET /projects/{{id}}"
                    )
                    b = measure_board(server, project["id"], next(iter(order)), requests)
                    details["board"] = b
                    step(
                        f"board page median {median(b['board_ms']):.1f} ms, "
                        f"{b['board_bytes'] / 1024:.0f} KB, {b['board_cards']} cards"
                    )
                    r, n = board_rows(b, tasks)
                    rows += r
                    notes += n
                    if failures:
                        notes.append(f"{len(failures)} attempts failed, e.g. {failures[0]}")
                if "log" in only:
                    step(f"log tab: attempts printing {lines:,} and 100 lines")
                    lg = measure_log(server, events, project["id"], lines, loads)
                    details["log"] = lg
                    r, n = log_rows(lg)
                    rows += r
                    notes += n
            finally:
                events.close()
        finally:
            server.stop()
            problems = server.problems(keep_as="board")
    note_server_problems("board", problems, notes, details)
    report("board", rows, details, notes)


if __name__ == "__main__":
    main()
