"""App build: "Build" (POST /api/apps/{id}/builds) → `ready`, per template and per stage, versus
the same steps done by hand in the same run.

Paddock: a fresh app per run (idea, the offline planner's questions answered, the plan, the
template chosen), then the clock runs from sending the POST to the `build` event saying
`ready` on the app's timeline stream (what the founder's page follows). The stages' times are
the build's own `stage_times`; what is left of the total (the queue before `starting`,
recording the version after `checks`, the event) is the row "queue, version, event".

By hand, same template, same brief, same machine, no sandbox, no database:
- scaffold: `git init` a fresh repository, write the template's files
  (paddock.services.builder.templates.template_files, what a build copies), `git add -A`,
  `git commit`;
- code: `python3 paddock/demo/builder_agent.py` in it with $PADDOCK_PROMPT =
  paddock.domain.builder.prompts.build_prompt(brief, template) (the offline builder agent;
  its default $BUILDER_AGENT_DELAY, as the server runs it);
- deps: the template's setup script (none for static-site);
- checks: its unit tests ($JUNIT_OUTPUT set), its dev server started on a free port and
  polled every 20 ms until `GET /` answers 200, its e2e check ($PREVIEW_URL = that server),
  then the dev server's process group ended.
There is no "starting" by hand: Paddock's task, attempt and worktree are its own bookkeeping.

Templates whose setup downloads packages get one throw-away setup by hand first, so that the
package caches are warm for whichever side runs first. One throw-away run per side first, then
7 runs per side (--runs) alternating which side goes first; medians, p90 in the notes.

Target: Paddock's overhead (its total minus the hand total) ≤ 10 % of its total (medians).

    .venv/bin/python bench/build.py [--templates static-site,fastapi-htmx] [--runs N]
                                    [--env NAME=VALUE ...]   # for the server
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _harness import (
    ROOT,
    Row,
    Server,
    SSEEvent,
    SSEThread,
    free_port,
    median,
    note_server_problems,
    pct,
    report,
    step,
)

from paddock.domain.builder.brief import Brief
from paddock.domain.builder.prompts import build_prompt
from paddock.domain.builder.templates import AppTemplate
from paddock.services.builder.build_screenshot import screenshot_argv, screenshot_env
from paddock.services.builder.templates import get_template, template_files

IDEA = "A booking page for my yoga studio"
ANSWERS = {
    "users": "Students of the studio",
    "features": "Class schedule: see this week's classes\nBook a class: pick one and a time",
    "non_goals": "No payments",
}
STAGES = ("starting", "scaffold", "code", "deps", "checks")
TARGET_SHARE = 0.10
BUILD_TIMEOUT_S = 900.0
ENDED = ("ready", "failed", "cancelled")
AGENT = ROOT / "paddock" / "demo" / "builder_agent.py"


# --- Paddock -----------------------------------------------------------------------------------


def new_app(server: Server, template: str) -> tuple[dict[str, Any], Brief]:
    app: dict[str, Any] = server.api("POST", "/api/apps", json={"idea": IDEA})
    brief = server.api("POST", f"/api/apps/{app['id']}/answers", json={"answers": ANSWERS})
    server.api("POST", f"/api/apps/{app['id']}/plan")
    server.api("PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": template})
    fields = {k: brief[k] for k in ("name", "problem", "users", "features", "non_goals")}
    return app, Brief.model_validate(fields)


def paddock_run(server: Server, template: str) -> dict[str, Any]:
    """One first build of a fresh app: seconds per stage, and the total."""
    app, _brief = new_app(server, template)
    # The founder's page follows the build on the app's timeline stream: so does the bench
    # (polling the build's state would cost the server CPU a user does not make it spend).
    timeline = SSEThread(server.url, f"/api/apps/{app['id']}/timeline/stream", token=server.token)
    try:
        t0 = time.perf_counter()
        build = server.api("POST", f"/api/apps/{app['id']}/builds", json={})

        def ended(event: SSEEvent) -> bool:
            if event.event != "build":
                return False
            data = event.json()
            return bool(data["id"] == build["id"] and data["status"] in ENDED)

        timeline.wait_for(ended, BUILD_TIMEOUT_S)
        total = time.perf_counter() - t0
    finally:
        timeline.close()
    build = server.api("GET", f"/api/builds/{build['id']}")
    if build["status"] != "ready":
        raise RuntimeError(
            f"{template}: build {build['status']}: {build['error']}\n{build['detail']}"
        )
    stages = {t["stage"]: float(t["seconds"] or 0.0) for t in build["stage_times"]}
    if build.get("preview_id"):  # its dev server would run on beside the next runs
        server.api("DELETE", f"/api/previews/{build['preview_id']}")
    attempt_id = server.api("GET", f"/api/apps/{app['id']}")["attempt_id"]
    attempt = server.api("GET", f"/api/attempts/{attempt_id}")
    return {
        "total": total,
        **{s: stages.get(s, 0.0) for s in STAGES},
        "processes": process_seconds(server, attempt_id),
        "rest": total - sum(stages.values()),
        "sandbox": (attempt.get("sandbox") or {}).get("provider"),
    }


def process_seconds(server: Server, attempt_id: str) -> dict[str, float]:
    """Started → finished of the attempt's processes, summed by reason: what the stages hold."""
    from datetime import datetime

    found: dict[str, float] = {}
    for proc in server.api("GET", f"/api/attempts/{attempt_id}/processes"):
        # The dev server runs on until the bench ends the preview: its time says nothing.
        if proc["reason"] != "dev_server" and proc["started_at"] and proc["finished_at"]:
            took = datetime.fromisoformat(proc["finished_at"]) - datetime.fromisoformat(
                proc["started_at"]
            )
            found[proc["reason"]] = found.get(proc["reason"], 0.0) + took.total_seconds()
    return found


# --- by hand -----------------------------------------------------------------------------------


def run(script: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`{script}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}")


def scaffold(repo: Path, template: AppTemplate) -> None:
    run("git init -q -b main .", repo)
    for relative, data in template_files(template.name).items():
        path = repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    run(
        f"git add -A && git -c user.name=bench -c user.email=bench@localhost commit -q -m "
        f"{shlex.quote('Set up the ' + template.label + ' template')}",
        repo,
    )


def serve_until_answering(repo: Path, template: AppTemplate) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        ["bash", "-c", template.scripts.dev],
        cwd=repo,
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group: ended with whatever it started
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{template.name}: the dev server exited {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{template.name}: the dev server did not answer")


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def checks(repo: Path, template: AppTemplate, junit: Path, *, screenshot: bool) -> dict[str, float]:
    """The checks, one after the other, and the seconds of each part (as Paddock's processes
    are reported): with `screenshot`, Chromium's picture of the home page as a build takes it
    (the same command line, outside a sandbox)."""
    parts: dict[str, float] = {}
    t = time.perf_counter()
    if template.scripts.unit_test.strip():
        run(template.scripts.unit_test, repo, {"JUNIT_OUTPUT": str(junit / "unit.xml")})
    parts["unit_test"] = time.perf_counter() - t
    t = time.perf_counter()
    proc, url = serve_until_answering(repo, template)
    parts["dev_server answering"] = time.perf_counter() - t
    try:
        t = time.perf_counter()
        if template.scripts.e2e_test.strip():
            run(
                template.scripts.e2e_test,
                repo,
                {"PREVIEW_URL": url, "JUNIT_OUTPUT": str(junit / "e2e.xml")},
            )
        parts["e2e_test"] = time.perf_counter() - t
        if screenshot:
            t = time.perf_counter()
            subprocess.run(
                screenshot_argv(),
                input=f"{url}\n".encode(),  # at once: a cold browser, as by hand
                cwd=repo,
                env={**os.environ, **screenshot_env(), "PADDOCK_ARTIFACTS": str(junit)},
                capture_output=True,
                check=True,
                timeout=120,
            )
            parts["screenshot"] = time.perf_counter() - t
    finally:
        stop_group(proc)
    return parts


def hand_run(
    template: AppTemplate, brief: Brief, where: Path, *, screenshot: bool
) -> dict[str, Any]:
    repo, junit = where / "repo", where / "junit"
    repo.mkdir(parents=True)
    junit.mkdir()
    times: dict[str, float] = {"starting": 0.0}
    t0 = time.perf_counter()
    scaffold(repo, template)
    times["scaffold"] = time.perf_counter() - t0
    t = time.perf_counter()
    run(
        f"python3 {shlex.quote(str(AGENT))}",
        repo,
        {"PADDOCK_PROMPT": build_prompt(brief, template)},
    )
    times["code"] = time.perf_counter() - t
    t = time.perf_counter()
    if template.scripts.setup.strip():
        run(template.scripts.setup, repo)
    times["deps"] = time.perf_counter() - t
    t = time.perf_counter()
    parts = checks(repo, template, junit, screenshot=screenshot)
    times["checks"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - t0
    times["rest"] = 0.0
    return {**times, "processes": parts}


def warm_caches(template: AppTemplate, where: Path) -> None:
    """One setup by hand, not timed: the package caches are then warm for both sides."""
    repo = where / "warm"
    repo.mkdir(parents=True)
    scaffold(repo, template)
    run(template.scripts.setup, repo)


# --- the table ---------------------------------------------------------------------------------


def template_rows(
    name: str, paddock: list[dict[str, Any]], hand: list[dict[str, Any]]
) -> list[Row]:
    total = median([r["total"] for r in paddock])
    rows: list[Row] = []
    for part in (*STAGES, "rest"):
        p, h = median([r[part] for r in paddock]), median([r[part] for r in hand])
        label = "queue, version, event" if part == "rest" else part
        rows.append(
            Row(
                f"  {name}: {label}",
                p,
                h if part not in ("starting", "rest") else "-",
                f"{p - h:+.2f} s ({100 * (p - h) / total:+.1f} %)",
                "-",
                None,
                "s",
            )
        )
    h_total = median([r["total"] for r in hand])
    overhead = total - h_total
    rows.insert(
        0,
        Row(
            f"{name}: Build → ready, total",
            total,
            h_total,
            f"{overhead:+.2f} s ({100 * overhead / total:.1f} % of total)",
            "overhead ≤ 10 %",
            overhead <= TARGET_SHARE * total,
            "s",
        ),
    )
    return rows


def process_note(name: str, paddock: list[dict[str, Any]], hand: list[dict[str, Any]]) -> str:
    """Where the time inside the stages goes: Paddock's processes beside the hand steps."""

    def medians(samples: list[dict[str, Any]]) -> str:
        keys = sorted({k for r in samples for k in r["processes"]})
        return ", ".join(
            f"{k} {median([r['processes'].get(k, 0.0) for r in samples]):.2f} s" for k in keys
        )

    return (
        f"{name}, median seconds per process (started → finished) in Paddock: "
        f"{medians(paddock)}; by hand: {medians(hand)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", default="", help="comma-separated (default: all)")
    parser.add_argument("--runs", type=int, default=7, help="runs per side (median, p90)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="for the server, e.g. PADDOCK_BUILDER_SCREENSHOT=false",
    )
    args = parser.parse_args()
    server_env = dict(item.split("=", 1) for item in args.env)
    screenshot = server_env.get("PADDOCK_BUILDER_SCREENSHOT", "true").lower() not in ("false", "0")

    rows: list[Row] = []
    details: dict[str, Any] = {"runs": args.runs, "server_env": server_env, "samples_s": {}}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="paddock-bench-build-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)  # the sandbox's user reaches the server's data dir inside
        server = Server(root / "data", server_env).start()
        try:
            names = args.templates.split(",") if args.templates else [
                t["name"] for t in server.api("GET", "/api/app-templates")
            ]  # fmt: skip
            for name in names:
                template = get_template(name)
                if template.needs_network:
                    step(f"{name}: warming the package caches (one setup by hand)")
                    warm_caches(template, root / name)
                paddock, hand = [], []
                brief = new_app(server, name)[1]  # the brief the offline planner makes
                step(f"{name}: one throw-away run per side (warm-up)")
                paddock_run(server, name)
                hand_run(template, brief, root / name / "hand-warm-up", screenshot=screenshot)
                for i in range(args.runs):
                    order = ("paddock", "hand") if i % 2 else ("hand", "paddock")
                    for side in order:
                        step(f"{name} run {i + 1}/{args.runs}: {side}")
                        if side == "paddock":
                            paddock.append(paddock_run(server, name))
                        else:
                            hand.append(
                                hand_run(
                                    template,
                                    brief,
                                    root / name / f"hand-{i}",
                                    screenshot=screenshot,
                                )
                            )
                details["samples_s"][name] = {"paddock": paddock, "hand": hand}
                rows.extend(template_rows(name, paddock, hand))
                notes.append(process_note(name, paddock, hand))
                notes.append(
                    f"{name}: total p90 {pct([r['total'] for r in paddock], 90):.2f} s in "
                    f"Paddock, {pct([r['total'] for r in hand], 90):.2f} s by hand "
                    f"({len(paddock)} runs per side after a warm-up run each)"
                )
                details.setdefault("sandbox", {})[name] = paddock[0]["sandbox"]
        finally:
            server.stop()
            problems = server.problems(keep_as="build")
    note_server_problems("build", problems, notes, details)
    notes.append(
        "paddock = POST builds sent → the timeline stream's `build` event says ready, stages from "
        "the build's stage_times; by hand = git init + files + commit, builder_agent.py, setup, "
        "unit tests + dev server answering + e2e, unsandboxed; the sandbox Paddock ran builds "
        f"in: {details.get('sandbox')}"
    )
    if screenshot:
        notes.append(
            "both take a Chromium screenshot of the home page (builder_screenshot, on by "
            "default; by hand after the e2e check, Paddock beside it): "
            "--env PADDOCK_BUILDER_SCREENSHOT=false measures without it"
        )
    report("build", rows, details, notes)


if __name__ == "__main__":
    main()
