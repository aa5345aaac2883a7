"""`paddock app`, run as a real subprocess against a real server, offline: an idea to v0.1, a
change to v0.2, a rollback to v0.3, and the API's errors on stderr with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.server import ServerProcess
from tests.e2e.test_builder_flow import ANSWERS, IDEA
from tests.e2e.test_cli import cli, ok


def test_idea_to_v01_a_change_and_a_rollback(server: ServerProcess, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({k: v for k, v in ANSWERS.items() if k != "non_goals"}))
    out = ok(
        cli(
            "app", "new", IDEA, "--answers-file", str(answers),
            "--answer", "non_goals=No payments", "--build", "--wait",
            server=server,
        )
    )  # fmt: skip
    (app,) = server.api("GET", "/api/apps")
    assert app["id"] in out and app["template"] == "static-site"
    assert "Class schedule, Book a class" in out and "static-site (the recommended one)" in out
    for label in ("Setting up the project…", "Writing code…", "Running checks…"):
        assert label in out
    assert "v0.1 is ready" in out
    link = out.split("open it: ")[1].split()[0]  # the preview's one-time sign-in link
    assert f":{server.preview_port}/" in link and "paddock_ticket=" in link

    changed = ok(
        cli(
            "app", "change", app["slug"], "Add a contact section",
            "--answer", "where=The home page", "--yes", server=server,
        )
    )  # fmt: skip
    assert "The home page" in changed and "Iteration 1 of 5 (Partner tier)" in changed
    assert "iteration 2: build #2" in changed and "v0.2 is ready" in changed
    unconfirmed = cli("app", "change", app["slug"], "Add a map", server=server)
    assert unconfirmed.returncode == 2 and "confirmation_needed" in unconfirmed.stderr

    listing = ok(cli("app", "versions", app["name"], server=server))
    assert "v0.2" in listing and "v0.1" in listing

    rolled = ok(cli("app", "rollback", app["id"][:8], "v0.1", server=server))
    assert "v0.3 has the files of v0.1" in rolled
    assert [v["name"] for v in server.api("GET", f"/api/apps/{app['id']}/versions")] == [
        "v0.3",
        "v0.2",
        "v0.1",
    ]

    readiness = cli("app", "readiness", app["slug"], server=server)
    assert readiness.returncode in (0, 1), readiness.stderr  # 1: the light is red
    assert "v0.3: " in readiness.stdout and "recommended: " in readiness.stdout
    assert "is parked" in ok(cli("app", "park", app["slug"], server=server))
    refused = cli("app", "change", app["slug"], "Add a map", "--yes", server=server)
    assert refused.returncode == 2 and "app_parked" in refused.stderr
    assert "is back" in ok(cli("app", "resume", app["slug"], server=server))

    shown = ok(cli("app", "show", app["slug"], server=server))
    assert "Book a class" in shown and "versions: v0.3, v0.2, v0.1" in shown
    assert app["slug"] in ok(cli("app", "list", server=server))


def test_no_build_then_api_errors_exit_2(server: ServerProcess) -> None:
    out = ok(
        cli(
            "app", "new", IDEA, "--no-build",
            *(arg for k, v in ANSWERS.items() for arg in ("--answer", f"{k}={v}")),
            server=server,
        )
    )  # fmt: skip
    assert "no build started" in out
    (app,) = server.api("GET", "/api/apps")
    assert app["stage"] == "building" and server.api("GET", f"/api/apps/{app['id']}/builds") == []

    unknown = cli("app", "show", "no-such-app", server=server)
    assert unknown.returncode == 2 and "app_not_found" in unknown.stderr

    # The API's own error, passed through: no version to roll back to yet.
    missing = cli("app", "rollback", app["slug"], "v0.9", server=server)
    assert missing.returncode == 2 and missing.stdout == ""
    assert "version_not_found" in missing.stderr

    # Not a terminal and no answers: the command says how to give them.
    unanswered = cli("app", "new", "A shop for my bakery", "--no-build", server=server)
    assert unanswered.returncode == 2 and "answers_needed" in unanswered.stderr
