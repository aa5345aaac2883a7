"""The builder's engine under failure, cancel, restart and load, through the real server.

Every app here builds with the `script` agent running one command (AGENT): it reads a fault
file the test writes into the app's repository's .git (readable in the sandbox, never
committed) and, by its word, fails the code stage, makes its requirements include a file that
is missing (deps), adds a unit test that fails while the fault stands (checks), or sleeps (for
cancel, restart and the queue); then it runs the offline builder agent. Between a failure and
its Retry the test fixes the cause for real (clears the fault, adds the missing file), and
the retry must end ready. The deps retry installs fastapi-htmx's packages: like
tests/templates, it needs the package index (and fails, never skips, without it).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paddock.demo import builder_agent
from tests.e2e.builder_helpers import iterate
from tests.e2e.server import ServerProcess, make_repo, wait_for

IDEA = "A booking page for my yoga studio"
ANSWERS = {
    "users": "Students of the studio",
    "features": "Class schedule: see this week's classes\nBook a class: pick one and a time",
    "non_goals": "No payments",
}
STAGES = ["starting", "scaffold", "code", "deps", "checks"]
SENTENCES = {
    "starting": "We could not start the build. Want us to try again?",
    "scaffold": "We hit an issue setting up the project. Want us to try again?",
    "code": "We hit an issue while writing the code. Want us to try again?",
    "deps": "We hit an issue installing dependencies. Want us to try again?",
    "checks": "The app was built, but some checks did not pass. Want us to try again?",
}
FAULT = "builder-fault"  # in the repository's .git: what the agent is to break
HOUSE_RULE = "builder-house-rule.py"  # the unit test the agent adds for a checks fault
EXTRA_REQUIREMENTS = "builder-extra-requirements.txt"  # what the deps fault requires too

# `sleep` is long: a cancel or a kill ends it.
AGENT = f"""
git_dir="{{git_dir}}"
fault="$(cat "$git_dir/{FAULT}" 2>/dev/null || true)"
case "$fault" in
  code) echo "agent: the model refused the request" >&2; exit 1 ;;
  deps) printf -- '-r %s\\n' "$git_dir/{EXTRA_REQUIREMENTS}" >> requirements.txt ;;
  checks) cp "$git_dir/{HOUSE_RULE}" tests/test_house_rule.py ;;
  sleep) echo "agent: thinking"; sleep 120 ;;
  slow) sleep 3 ;;
esac
exec python3 {Path(builder_agent.__file__)}
"""

HOUSE_RULE_TEST = '''"""Fails while the test's fault file says "checks"."""
import unittest
from pathlib import Path

FAULT = Path("{fault}")


class HouseRule(unittest.TestCase):
    def test_the_house_rule_holds(self) -> None:
        fault = FAULT.read_text().strip() if FAULT.exists() else ""
        self.assertNotEqual(fault, "checks", "the house rule is broken")
'''


# -- helpers --------------------------------------------------------------------------------


def builder_server(data: Path, **env: str) -> ServerProcess:
    """A server whose builds take no screenshot (no Chromium needed, faster)."""
    return ServerProcess(
        data, env={"PADDOCK_BUILDER_SCREENSHOT": "false", "BUILDER_AGENT_DELAY": "0", **env}
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with builder_server(tmp_path / "data") as srv:
        yield srv


def new_app(
    server: ServerProcess, repo: Path, template: str = "static-site", fault: str = ""
) -> dict[str, Any]:
    """An app in `repo`, planned with `template`, its agent the fault-reading script."""
    set_fault(repo, fault)
    (repo / ".git" / HOUSE_RULE).write_text(HOUSE_RULE_TEST.format(fault=repo / ".git" / FAULT))
    # The server's environment reaches the agent (BUILDER_AGENT_DELAY=0, builder_server).
    agent = {"profile": "script", "command": AGENT.format(git_dir=repo / ".git")}
    app: dict[str, Any] = server.api(
        "POST", "/api/apps", json={"idea": IDEA, "repo_path": str(repo), "agent": agent}
    )
    server.api("POST", f"/api/apps/{app['id']}/answers", json={"answers": ANSWERS})
    server.api("POST", f"/api/apps/{app['id']}/plan")
    server.api("PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": template})
    return app


def a_repo(tmp_path: Path, name: str = "repo") -> Path:
    return make_repo(tmp_path / name)


def set_fault(repo: Path, fault: str) -> None:
    (repo / ".git" / FAULT).write_text(fault)


def start_build(server: ServerProcess, app: dict[str, Any], change: str | None = None) -> Any:
    """The app's first build, or with `change` an iteration (a change request confirmed)."""
    if change is not None:
        return iterate(server, app["id"], change)
    return server.api("POST", f"/api/apps/{app['id']}/builds", json={})


def get_build(server: ServerProcess, build: dict[str, Any]) -> Any:
    return server.api("GET", f"/api/builds/{build['id']}")


def settled(server: ServerProcess, build: dict[str, Any], timeout: float = 180) -> Any:
    return wait_for(
        lambda: (
            b
            if (b := get_build(server, build))["status"] in ("ready", "failed", "cancelled")
            else None
        ),
        timeout=timeout,
        interval=0.2,
    )


def at_stage(server: ServerProcess, build: dict[str, Any], stage: str) -> Any:
    return wait_for(
        lambda: b if (b := get_build(server, build))["status"] == stage else None,
        timeout=120,
        interval=0.1,
    )


def agent_running(server: ServerProcess, app: dict[str, Any]) -> Any:
    """The app's attempt's agent turn (the code stage's process), once it is running."""
    attempt_id = server.api("GET", f"/api/apps/{app['id']}")["attempt_id"]

    def running() -> Any:
        procs = server.api("GET", f"/api/attempts/{attempt_id}/processes")
        turns = [p for p in procs if p["reason"] in ("agent", "follow_up")]
        return turns[-1] if turns and turns[-1]["status"] == "running" else None

    return wait_for(running, timeout=60, interval=0.1)


def stage_names(build: dict[str, Any]) -> list[str]:
    return [t["stage"] for t in build["stage_times"]]


def worktree(server: ServerProcess, app: dict[str, Any]) -> Path:
    attempt_id = server.api("GET", f"/api/apps/{app['id']}")["attempt_id"]
    return Path(server.api("GET", f"/api/attempts/{attempt_id}")["worktree_path"])


def version_commit(server: ServerProcess, app: dict[str, Any], name: str) -> str:
    versions = server.api("GET", f"/api/apps/{app['id']}/versions")
    return str(next(v["commit"] for v in versions if v["name"] == name))


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def assert_failed_plainly(server: ServerProcess, build: dict[str, Any], stage: str) -> None:
    """The failure card: the stage's sentence, a debug id that is in the server's log too."""
    assert build["status"] == "failed", build
    assert build["failed_stage"] == stage, (build["error"], build["detail"])
    assert build["error"] == SENTENCES[stage]
    assert build["debug_id"] and f"debug_id={build['debug_id']}" in server.log()


def retried(server: ServerProcess, build: dict[str, Any], stage: str) -> Any:
    """Retry: queued again from the start of `stage`, the failure cleared."""
    again = server.api("POST", f"/api/builds/{build['id']}/retry")
    assert again["retries"] == build["retries"] + 1 and again["start_stage"] == stage
    assert again["error"] is None and again["debug_id"] is None
    return settled(server, again)


# -- a failure in each stage, and its Retry -------------------------------------------------


def test_code_failure_is_plain_and_retry_starts_at_code(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = a_repo(tmp_path)
    app = new_app(server, repo, fault="code")
    build = settled(server, start_build(server, app))
    assert_failed_plainly(server, build, "code")
    assert "the model refused the request" in build["detail"]  # the agent's log tail
    assert stage_names(build) == ["starting", "scaffold", "code"]

    set_fault(repo, "")
    again = retried(server, build, "code")
    assert again["status"] == "ready", (again["error"], again["detail"])
    assert again["retries"] == 1 and again["version"] == "v0.1"
    # The retry ran code onwards only: what starting and scaffold made was kept.
    assert stage_names(again) == ["starting", "scaffold", "code", "code", "deps", "checks"]
    app_json = (worktree(server, app) / "app.json").read_text()
    assert "Class schedule" in app_json


def test_checks_failure_names_the_failing_test_and_retry_starts_at_checks(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = a_repo(tmp_path)
    app = new_app(server, repo, fault="checks")
    build = settled(server, start_build(server, app))
    assert_failed_plainly(server, build, "checks")
    assert "test_the_house_rule_holds" in build["detail"]
    head = git(worktree(server, app), "rev-parse", "HEAD")

    set_fault(repo, "")
    again = retried(server, build, "checks")
    assert again["status"] == "ready", (again["error"], again["detail"])
    assert stage_names(again) == [*STAGES, "checks"]
    # The agent did not run again: the version is the commit the failed build made.
    assert version_commit(server, app, "v0.1") == head


def test_deps_failure_shows_the_setup_log_and_retry_starts_at_deps(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = a_repo(tmp_path)
    app = new_app(server, repo, template="fastapi-htmx", fault="deps")
    build = settled(server, start_build(server, app))
    assert_failed_plainly(server, build, "deps")
    assert EXTRA_REQUIREMENTS in build["detail"]  # pip's words, from the setup's log tail

    # The agent's requirements name a file that was missing: once it is there, a retry
    # installs them (the code is not written again) and the app is built.
    (repo / ".git" / EXTRA_REQUIREMENTS).write_text("")
    again = retried(server, build, "deps")
    assert again["status"] == "ready", (again["error"], again["detail"])
    assert stage_names(again) == [*STAGES[:4], "deps", "checks"]


# -- cancel ---------------------------------------------------------------------------------


def test_starting_fails_while_something_else_runs_in_the_apps_attempt(
    server: ServerProcess, tmp_path: Path
) -> None:
    """A developer's follow-up on the app's attempt (from the board) runs when a build
    starts: the build says so, and its Retry (from starting) works once the turn ended."""
    repo = a_repo(tmp_path)
    app = new_app(server, repo)
    assert settled(server, start_build(server, app))["status"] == "ready"
    app = server.api("GET", f"/api/apps/{app['id']}")
    set_fault(repo, "slow")
    server.api("POST", f"/api/attempts/{app['attempt_id']}/follow-ups", json={"prompt": "tidy"})
    agent_running(server, app)
    build = settled(server, start_build(server, app, "Add a contact section"))
    assert_failed_plainly(server, build, "starting")
    assert "something else runs in it" in build["detail"]

    set_fault(repo, "")
    wait_for(
        lambda: (
            server.api("GET", f"/api/attempts/{app['attempt_id']}")["status"]
            not in ("running", "setting_up")
        ),
        timeout=60,
    )
    again = retried(server, build, "starting")
    assert again["status"] == "ready", (again["error"], again["detail"])
    assert again["version"] == "v0.2"


def test_scaffold_fails_when_the_worktree_cannot_be_put_back(
    server: ServerProcess, tmp_path: Path
) -> None:
    """A later build's scaffold puts the worktree back at its last commit; a git lock left
    by a crashed git stops that: the build says so, with git's words, and retries there."""
    repo = a_repo(tmp_path)
    app = new_app(server, repo)
    assert settled(server, start_build(server, app))["status"] == "ready"
    tree = worktree(server, app)
    (tree / "stray.txt").write_text("left by hand\n")
    admin = Path(git(tree, "rev-parse", "--absolute-git-dir"))
    (admin / "index.lock").write_text("")
    build = settled(server, start_build(server, app, "Add a contact section"))
    assert_failed_plainly(server, build, "scaffold")
    assert "git reset" in build["detail"] and "remove the file manually" in build["detail"]

    (admin / "index.lock").unlink()
    again = retried(server, build, "scaffold")
    assert again["status"] == "ready", (again["error"], again["detail"])
    assert not (tree / "stray.txt").exists()  # what was left by hand is not built on


def test_scaffold_never_writes_through_a_link_in_the_worktree(
    server: ServerProcess, tmp_path: Path
) -> None:
    """The scaffold writes the template's files into a worktree (as root): a link where a
    template file goes (`index.html`) or above one (`tests/`) is refused, never followed,
    and the host files it points at stay as they were."""
    victim = tmp_path / "host-file.html"
    victim.write_text("precious\n")
    victim_dir = tmp_path / "host-dir"
    victim_dir.mkdir()
    repo = a_repo(tmp_path)
    (repo / "index.html").symlink_to(victim)
    (repo / "tests").symlink_to(victim_dir)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "links")
    app = new_app(server, repo)
    build = settled(server, start_build(server, app))
    assert_failed_plainly(server, build, "scaffold")
    assert "unsafe_path" in build["detail"]
    assert victim.read_text() == "precious\n"
    assert list(victim_dir.iterdir()) == []


def test_cancel_during_code_stops_the_agent_and_leaves_the_last_version(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = a_repo(tmp_path)
    app = new_app(server, repo)
    first = settled(server, start_build(server, app))
    assert first["status"] == "ready", (first["error"], first["detail"])
    tree = worktree(server, app)
    v01 = version_commit(server, app, "v0.1")

    set_fault(repo, "sleep")
    change = start_build(server, app, "Add a contact section")
    at_stage(server, change, "code")
    turn = agent_running(server, app)
    cancelled = server.api("POST", f"/api/builds/{change['id']}/cancel")
    assert cancelled["status"] == "cancelled", cancelled
    assert cancelled["failed_stage"] == "code"

    process = server.api("GET", f"/api/processes/{turn['id']}")
    assert process["status"] == "stopped", process
    assert git(tree, "rev-parse", "HEAD") == v01
    assert git(tree, "log", "--oneline", f"{v01}..HEAD") == ""  # nothing committed past v0.1
    assert git(tree, "status", "--porcelain") == ""

    again = server.client.post(f"/api/builds/{change['id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "build_finished"


def test_cancel_of_a_queued_build_means_it_never_starts(
    server: ServerProcess, tmp_path: Path
) -> None:
    busy = new_app(server, a_repo(tmp_path, "busy"), fault="sleep")
    waiting = new_app(server, a_repo(tmp_path, "waiting"))
    running = start_build(server, busy)
    at_stage(server, running, "code")
    queued = start_build(server, waiting)
    assert queued["status"] == "queued" and queued["queue_position"] == 1

    cancelled = server.api("POST", f"/api/builds/{queued['id']}/cancel")
    assert cancelled["status"] == "cancelled" and cancelled["started_at"] is None
    server.api("POST", f"/api/builds/{running['id']}/cancel")
    assert get_build(server, queued)["stage_times"] == []
    assert server.api("GET", f"/api/apps/{waiting['id']}")["attempt_id"] is None


# -- restart --------------------------------------------------------------------------------


def test_a_kill_9_during_code_fails_the_build_and_the_queue_goes_on(tmp_path: Path) -> None:
    data = tmp_path / "data"
    repo = a_repo(tmp_path, "killed")
    server = builder_server(data).start()
    try:
        killed = new_app(server, repo, fault="sleep")
        waiting = new_app(server, a_repo(tmp_path, "waiting"))
        build = start_build(server, killed)
        at_stage(server, build, "code")
        agent_running(server, killed)
        queued = start_build(server, waiting)
        assert queued["status"] == "queued"
        server.kill9()
    finally:
        server.stop()

    with builder_server(data) as restarted:
        failed = get_build(restarted, build)
        assert_failed_plainly(restarted, failed, "code")
        assert failed["detail"].startswith("The server stopped")
        # The queued build starts by itself after the restart.
        second = settled(restarted, queued)
        assert second["status"] == "ready", (second["error"], second["detail"])

        set_fault(repo, "")
        again = retried(restarted, failed, "code")
        assert again["status"] == "ready", (again["error"], again["detail"])


# -- the queue ------------------------------------------------------------------------------


def test_with_one_build_slot_the_second_app_waits_its_turn(tmp_path: Path) -> None:
    with builder_server(tmp_path / "data", PADDOCK_BUILDER_MAX_BUILDS="1") as server:
        first_app = new_app(server, a_repo(tmp_path, "first"), fault="slow")
        second_app = new_app(server, a_repo(tmp_path, "second"))
        first = start_build(server, first_app)
        at_stage(server, first, "code")
        second = start_build(server, second_app)
        assert second["status"] == "queued" and second["queue_position"] == 1
        assert get_build(server, second)["queue_position"] == 1

        first = settled(server, first)
        second = settled(server, second)
        assert first["status"] == second["status"] == "ready"
        assert second["started_at"] >= first["ended_at"]  # it ran after the first, not beside


# -- the timeline stream --------------------------------------------------------------------


def test_a_stream_that_connects_late_gets_the_build_as_it_is_now(
    server: ServerProcess, tmp_path: Path
) -> None:
    """The build moved on before the page's stream connected (or between two connections):
    resuming after the last entry the page has, the stream first says where the build is, so
    the progress bar does not wait on the stage it missed."""
    app = new_app(server, a_repo(tmp_path), fault="sleep")
    build = start_build(server, app)
    at_stage(server, build, "code")
    last = server.api("GET", f"/api/apps/{app['id']}/timeline")[-1]["seq"]
    events = server.sse(f"/api/apps/{app['id']}/timeline/stream", params={"after": last})
    try:
        _id, event, data = next(events)
    finally:
        events.close()
    assert (event, data["id"], data["status"]) == ("build", build["id"], "code")
    server.api("POST", f"/api/builds/{build['id']}/cancel")


def test_the_timeline_stream_replays_then_goes_live(server: ServerProcess, tmp_path: Path) -> None:
    app = new_app(server, a_repo(tmp_path))
    first = settled(server, start_build(server, app))
    assert first["status"] == "ready"
    # The build is saved ready before its entries (ready, version, MVP built) are written.
    stored = wait_for(
        lambda: (
            t
            if (t := server.api("GET", f"/api/apps/{app['id']}/timeline"))[-1]["kind"]
            == "mvp_built"
            else None
        ),
        timeout=30,
        interval=0.1,
    )
    seqs = [e["seq"] for e in stored]
    last = seqs[-1]
    path = f"/api/apps/{app['id']}/timeline/stream"

    # Last-Event-ID: what came after it, first.
    events = server.sse(path, headers={"Last-Event-ID": str(last - 1)})
    event_id, event, data = next(events)
    assert (event, event_id, data["seq"]) == ("timeline", str(last), last)
    events.close()

    # ?after=: the replay, then live entries and build states as a change builds.
    seen: list[int] = []
    builds: list[dict[str, Any]] = []
    change: dict[str, Any] | None = None
    for _id, event, data in server.sse(path, params={"after": last - 2}):
        if event == "timeline":
            seen.append(data["seq"])
            if data["seq"] == last and change is None:
                change = start_build(server, app, "Add a contact section")
            if data["kind"] == "build_ready":
                break
        elif event == "build":
            builds.append(data)
    assert change is not None
    assert seen == list(range(last - 1, seen[-1] + 1))  # nothing twice, nothing missed
    ours = [b for b in builds if b["id"] == change["id"]]
    assert {"code", "checks"} <= {b["status"] for b in ours}
    assert all("progress" in b and "stage_times" in b for b in ours)
    after = [e["seq"] for e in server.api("GET", f"/api/apps/{app['id']}/timeline")]
    assert [s for s in after if s > last - 2][: len(seen)] == seen
