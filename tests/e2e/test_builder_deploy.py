"""Ship, through the real server: a version's deploy readiness (red while the agent left a
key in the code and an undocumented variable; green once a change request fixed both), and
its export (a zip made by git, a push to a remote).

The app's agent is the `script` agent running AGENT: by the word in a file the test writes
into the repository's .git (readable in the sandbox, never committed) it leaves a key in
`config.js` that reads STRIPE_KEY too (`leak`), or moves the key into the environment and
documents it (`fix`), then runs the offline builder agent.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from paddock.demo import builder_agent
from tests.e2e.builder_helpers import iterate, settled
from tests.e2e.server import ServerProcess, make_repo

IDEA = "A booking page for my yoga studio"
ANSWERS = {
    "users": "Students of the studio",
    "features": "Class schedule: see this week's classes\nBook a class: pick one and a time",
    "non_goals": "No payments",
}
MODE = "builder-mode"
KEY = "AKIA" + "IOSFODNN7" + "EXAMPLF"  # an AWS access key id's shape (split: no scanner hit here)
AGENT = f"""
mode="$(cat "{{git_dir}}/{MODE}" 2>/dev/null || true)"
case "$mode" in
  leak)
    printf 'const awsKey = "{KEY}";\\nconst stripe = process.env.STRIPE_KEY;\\n' > config.js
    ln -sf /etc/passwd passwords.txt ;;
  fix)
    printf 'const stripe = process.env.STRIPE_KEY;\\n' > config.js
    printf '# Stripe: the secret key of your account\\nSTRIPE_KEY=\\n' > .env.example ;;
esac
exec python3 {Path(builder_agent.__file__)}
"""


def new_app(server: ServerProcess, repo: Path) -> dict[str, Any]:
    agent = {"profile": "script", "command": AGENT.format(git_dir=repo / ".git")}
    app: dict[str, Any] = server.api(
        "POST", "/api/apps", json={"idea": IDEA, "repo_path": str(repo), "agent": agent}
    )
    server.api("POST", f"/api/apps/{app['id']}/answers", json={"answers": ANSWERS})
    server.api("POST", f"/api/apps/{app['id']}/plan")
    server.api("PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": "static-site"})
    return app


def checks_by_id(readiness: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in readiness["checks"]}


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_red_version_turns_green_by_a_change_request(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "app")
    (repo / ".git" / MODE).write_text("leak")
    app = new_app(server, repo)
    first = settled(server, server.api("POST", f"/api/apps/{app['id']}/builds", json={}))
    assert first["status"] == "ready", (first["error"], first["detail"])

    red = server.api("GET", f"/api/apps/{app['id']}/deploy-readiness")
    assert red["version"] == "v0.1" and red["light"] == "red" and red["ready"] is False
    blocking = {c["id"] for c in red["blocking"]}
    assert {"secrets", "env_documented"} <= blocking
    assert [c["status"] for c in red["checks"]][: len(blocking)] == ["fail"] * len(blocking)
    checks = checks_by_id(red)
    assert "config.js" in checks["secrets"]["message"] and KEY not in str(red)
    assert "STRIPE_KEY" in checks["env_documented"]["fix"]
    assert checks["tests"]["status"] == "pass" and checks["build"]["status"] == "pass"
    assert red["stack"] == "static_site" and red["recommended"] == red["paths"][0]["id"]
    assert 2 <= len(red["paths"]) <= 3 and all(p["steps"] for p in red["paths"])
    # The secret scan read git's objects: the link to /etc/passwd is a link, never followed.
    assert "root:" not in str(red)
    again = server.api("GET", f"/api/apps/{app['id']}/deploy-readiness")
    assert again == red  # a commit's checks are kept

    (repo / ".git" / MODE).write_text("fix")
    fixed = settled(server, iterate(server, app["id"], "Move the AWS key out of the code"))
    assert fixed["status"] == "ready" and fixed["version"] == "v0.2"
    green = server.api("GET", f"/api/apps/{app['id']}/deploy-readiness")
    assert green["version"] == "v0.2" and green["blocking"] == []
    assert green["light"] in ("green", "yellow") and green["ready"] is True
    assert checks_by_id(green)["env_documented"]["status"] == "pass"
    older = server.api("GET", f"/api/apps/{app['id']}/deploy-readiness", params={"version": "v0.1"})
    assert older["light"] == "red"  # any version, not only the latest
    timeline = server.api("GET", f"/api/apps/{app['id']}/timeline")
    assert any(
        e["kind"] == "deploy_checked" and "v0.1 is not ready" in e["message"] for e in timeline
    )


def test_a_version_exports_as_a_zip_and_to_a_remote(server: ServerProcess, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app")
    (repo / ".git" / MODE).write_text("leak")
    app = new_app(server, repo)
    built = settled(server, server.api("POST", f"/api/apps/{app['id']}/builds", json={}))
    assert built["status"] == "ready", (built["error"], built["detail"])

    response = server.client.get(
        f"/api/apps/{app['id']}/versions/v0.1/archive", headers=server.auth
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    slug = server.api("GET", f"/api/apps/{app['id']}")["slug"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        assert f"{slug}-v0.1/index.html" in names and f"{slug}-v0.1/config.js" in names
        link = archive.getinfo(f"{slug}-v0.1/passwords.txt")
        assert archive.read(link) == b"/etc/passwd"  # the link's target, not the host's file

    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "shipit", str(remote))
    pushed = server.api(
        "POST",
        f"/api/apps/{app['id']}/versions/v0.1/push",
        json={"remote": "shipit", "branch": "live"},
    )
    v01 = next(
        v for v in server.api("GET", f"/api/apps/{app['id']}/versions") if v["name"] == "v0.1"
    )
    assert pushed["commit"] == v01["commit"] and git(remote, "rev-parse", "live") == v01["commit"]
    unknown = server.client.post(
        f"/api/apps/{app['id']}/versions/v0.1/push", json={"remote": "nope"}, headers=server.auth
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_remote"
