"""Runners join a team's Paddock with a token of their own, beat with their capacity, reach only
their own keys in Redis, and lose every access the moment they are revoked (docs/scale-out.md,
docs/decisions/022)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from redis.exceptions import AuthenticationError, NoPermissionError

from tests.cluster.cluster import Cluster
from tests.e2e.server import ServerProcess, wait_for


@pytest.fixture
def plane(cluster: Cluster, tmp_path: Path) -> Iterator[ServerProcess]:
    with cluster.server(tmp_path / "plane") as server:
        yield server


def new_runner(plane: ServerProcess, name: str, labels: list[str] | None = None) -> Any:
    return plane.api("POST", "/api/runners", json={"name": name, "labels": labels or []})


def session(plane: ServerProcess, token: str) -> httpx.Response:
    return httpx.post(
        f"{plane.url}/api/runner/session", headers={"Authorization": f"Bearer {token}"}
    )


def test_a_runner_joins_with_its_token_and_shows_online_with_its_capacity(
    plane: ServerProcess,
) -> None:
    made = new_runner(plane, "worker-1", ["gpu"])
    assert made["runner"]["online"] is False and made["token"].startswith("pdr_")
    runner_id = made["runner"]["id"]
    argv = [sys.executable, "-m", "paddock", "runner", "--server", plane.url]
    proc = subprocess.Popen(
        [*argv, "--slots", "3", "--label", "container"],
        env={**os.environ, "PADDOCK_RUNNER_TOKEN": made["token"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def online() -> Any:
            found = plane.api("GET", f"/api/runners/{runner_id}")
            return found if found["online"] else None

        runner = wait_for(online, 30)
        assert runner["capacity"]["slots"] == 3
        assert runner["capacity"]["labels"] == ["container"]
        assert runner["capacity"]["cpus"] == os.cpu_count()
        assert runner["labels"] == ["gpu"]  # what the control plane gave it
        assert [r["id"] for r in plane.api("GET", "/api/runners") if r["online"]] == [runner_id]

        # Revoked: its access to Redis ends at once; it asks again, is refused, and stops.
        revoked = plane.api("DELETE", f"/api/runners/{runner_id}")
        assert revoked["revoked"] is True and revoked["online"] is False
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 3, err
        assert "revoked" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    answer = session(plane, made["token"])
    assert (answer.status_code, answer.json()["code"]) == (401, "runner_revoked")


def test_a_runner_reaches_only_its_own_keys_and_its_token_opens_nothing_else(
    plane: ServerProcess, cluster: Cluster
) -> None:
    mine = new_runner(plane, "worker-1")
    other = new_runner(plane, "worker-2")
    granted = session(plane, mine["token"])
    assert granted.status_code == 200, granted.text
    creds = granted.json()
    assert "@" not in creds["redis_url"]  # the control plane's own credentials stay its own
    conn = redis.Redis(
        port=cluster.redis.port, username=creds["redis_user"], password=creds["redis_password"]
    )
    own = f"paddock:runner:{creds['runner_id']}:out"
    assert conn.xadd(own, {"k": "v"})
    for refused in (
        lambda: conn.xadd(f"paddock:runner:{other['runner']['id']}:work", {"k": "v"}),
        lambda: conn.xread({"paddock:events": "0"}),  # the control planes' events
        lambda: conn.get("paddock:events:seq"),
        lambda: conn.keys("*"),
        conn.acl_list,
        lambda: conn.config_get("*"),
        lambda: conn.publish("paddock", "x"),
        lambda: conn.eval("return 1", 0),
    ):
        with pytest.raises(NoPermissionError):
            refused()

    # Its token is not the user's: no other door opens with it.
    for method, path in (("GET", "/api/projects"), ("GET", "/api/runners"), ("GET", "/")):
        answer = httpx.request(
            method, f"{plane.url}{path}", headers={"Authorization": f"Bearer {mine['token']}"}
        )
        assert answer.status_code == 401, (path, answer.text)
    # ...and the user's token is not a runner's.
    answer = session(plane, plane.token)
    assert (answer.status_code, answer.json()["code"]) == (401, "bad_runner_token")

    # A new session replaces the password: the last one stops working.
    assert session(plane, mine["token"]).status_code == 200
    stale = redis.Redis(
        port=cluster.redis.port, username=creds["redis_user"], password=creds["redis_password"]
    )
    with pytest.raises(AuthenticationError):
        stale.ping()


def test_a_redis_that_is_away_is_a_clear_error(plane: ServerProcess, cluster: Cluster) -> None:
    made = new_runner(plane, "worker-1")
    cluster.redis.stop()
    for answer in (
        plane.client.get("/api/runners"),
        session(plane, made["token"]),
        plane.client.delete(f"/api/runners/{made['runner']['id']}"),  # revoked all the same
    ):
        assert (answer.status_code, answer.json()["code"]) == (503, "cluster_unreachable")
    assert plane.client.get("/api/health").status_code == 200
    answer = session(plane, made["token"])
    assert (answer.status_code, answer.json()["code"]) == (401, "runner_revoked")


def test_runners_need_a_teams_setup(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "alone") as alone:
        answer = alone.client.post("/api/runners", json={"name": "worker-1"})
        assert (answer.status_code, answer.json()["code"]) == (409, "cluster_not_configured")
        assert alone.api("GET", "/api/runners") == []
