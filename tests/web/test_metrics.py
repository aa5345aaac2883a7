"""/metrics through the real server: behind the API's token, and what an attempt's run leaves
in it (processes by state and provider, log lines, limit hits, request timings by route
template, SSE clients, the event bus). docs/reliability.md lists the metrics."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import ServerProcess, make_repo, wait_for

AGENT = "for i in $(seq 1 40); do echo line $i; done; echo oops >&2"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Short heartbeats: a stream's server side notices a client gone at its next write.
    env = {"PADDOCK_SSE_HEARTBEAT_SECONDS": "0.5"}
    with ServerProcess(tmp_path_factory.mktemp("metrics") / "data", env=env) as srv:
        yield srv


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own: its counters and database hold only what the test did."""
    with ServerProcess(tmp_path / "data") as srv:
        yield srv


def scrape(server: ServerProcess) -> Samples:
    response = server.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def labelled(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (found, labels) in samples if found == name]


def scrape_until(server: ServerProcess, name: str, wanted: float) -> Samples:
    def reached() -> Samples | None:
        samples = scrape(server)
        return samples if value(samples, name) == wanted else None

    found: Samples = wait_for(reached)
    return found


def run_attempt(server: ServerProcess, repo: Path, agent: str, **extra: Any) -> dict[str, Any]:
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Count"})
    attempt: dict[str, Any] = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": agent}, **extra},
    )
    wait_for(
        lambda: (
            server.api("GET", f"/api/attempts/{attempt['id']}")["status"]
            in ("awaiting_review", "failed")
        ),
        60,
    )
    return attempt


def finished_processes(server: ServerProcess, attempt_id: str) -> list[dict[str, Any]]:
    """The attempt's processes, once each has ended and its log is closed (its line count)."""

    def ended() -> list[dict[str, Any]] | None:
        procs: list[dict[str, Any]] = server.api("GET", f"/api/attempts/{attempt_id}/processes")
        done = all(p["finished_at"] and p["line_count"] for p in procs)
        return procs if procs and done else None

    found: list[dict[str, Any]] = wait_for(ended, 60)
    return found


def test_metrics_need_the_api_token(server: ServerProcess) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        response = httpx.get(f"{server.url}/metrics", headers=headers)
        assert response.status_code == 401, response.text
        assert "paddock_" not in response.text
    assert server.client.get("/metrics").status_code == 200  # with the token


def test_the_started_server_keeps_what_it_made_to_start_out_of_the_collectors_passes(
    server: ServerProcess,
) -> None:
    """A full pass of the collector over everything the server made to start took ~150 ms
    under load (the API's worst latency): once started, it is frozen (cli/serving.py)."""
    samples = scrape(server)
    assert value(samples, "paddock_gc_frozen_objects") > 50_000
    assert value(samples, "python_gc_collections_total", generation="2") >= 0


def test_an_attempt_run_shows_in_the_metrics(fresh_server: ServerProcess, tmp_path: Path) -> None:
    server = fresh_server
    before = scrape(server)
    attempt = run_attempt(server, make_repo(tmp_path / "repo"), AGENT)
    for _ in range(3):
        server.api("GET", f"/api/attempts/{attempt['id']}")
    procs = finished_processes(server, attempt["id"])
    samples = scrape(server)

    # Processes by state and provider: exactly what the API says this server holds.
    expected = Counter((p["status"], p["provider"]) for p in procs)
    assert expected[("succeeded", procs[0]["provider"])] >= 1
    shown = {
        (labels["state"], labels["provider"]): value(samples, "paddock_processes", **labels)
        for labels in labelled(samples, "paddock_processes")
    }
    assert {k: v for k, v in shown.items() if v} == dict(expected)
    assert value(samples, "paddock_processes", state="running", provider="none") == 0
    assert value(samples, "paddock_attempts", state="awaiting_review") == 1
    assert value(samples, "paddock_attempts_started_total") == 1
    assert value(samples, "paddock_previews", state="running") == 0

    # Every stored log line was counted once, and none before the run.
    assert value(before, "paddock_log_lines_ingested_total") == 0
    lines = value(samples, "paddock_log_lines_ingested_total")
    assert lines == sum(p["line_count"] for p in procs) and lines > 40
    assert value(samples, "paddock_log_bytes_ingested_total") > len("line 1\n") * 40

    # Request timings are by route template, never by the raw path.
    route = "/api/attempts/{attempt_id}"
    count = value(
        samples,
        "paddock_http_request_duration_seconds_count",
        method="GET",
        route=route,
        status="200",
    )
    assert count >= 3
    inf = value(
        samples,
        "paddock_http_request_duration_seconds_bucket",
        method="GET",
        route=route,
        status="200",
        le="+Inf",
    )
    assert inf == count
    routes = {
        labels["route"]
        for labels in labelled(samples, "paddock_http_request_duration_seconds_count")
    }
    assert "/api/tasks/{task_id}/attempts" in routes and "/metrics" in routes
    assert not [r for r in routes if attempt["id"] in r]
    assert value(samples, "paddock_event_bus_events_published_total") > value(
        before, "paddock_event_bus_events_published_total"
    )
    assert labelled(samples, "paddock_sandbox_limit_hits_total") == []  # no limit was hit


def test_a_process_past_its_time_limit_is_a_limit_hit(
    server: ServerProcess, tmp_path: Path
) -> None:
    sandbox = {"provider": "none", "limits": {"timeout_s": 1}}
    attempt = run_attempt(server, make_repo(tmp_path / "slow"), "sleep 30", sandbox=sandbox)
    [agent] = [p for p in finished_processes(server, attempt["id"]) if p["reason"] == "agent"]
    assert agent["failure"] == "timeout"
    samples = scrape(server)
    assert value(samples, "paddock_sandbox_limit_hits_total", limit="timeout", provider="none") == 1
    assert value(samples, "paddock_processes", state="failed", provider="none") >= 1


def test_open_event_streams_are_counted_while_open(server: ServerProcess) -> None:
    baseline = scrape(server)
    assert value(baseline, "paddock_sse_clients") == 0
    opened = threading.Event()
    stop = threading.Event()

    def follow() -> None:
        with (
            httpx.Client(base_url=server.url, headers=server.auth, timeout=30) as client,
            client.stream("GET", "/api/events") as response,
        ):
            assert response.status_code == 200
            opened.set()
            stop.wait(30)

    reader = threading.Thread(target=follow)
    reader.start()
    try:
        assert opened.wait(30)
        # Counted as the answer starts; the stream subscribes to the bus once it runs.
        during = scrape_until(server, "paddock_event_bus_subscribers", 1)
        assert value(during, "paddock_sse_clients") == 1
        assert value(during, "paddock_sse_connections_total") == (
            value(baseline, "paddock_sse_connections_total") + 1
        )
    finally:
        stop.set()
        reader.join(30)
    after = scrape_until(server, "paddock_sse_clients", 0)
    assert value(after, "paddock_event_bus_subscribers") == 0
    assert value(after, "paddock_event_bus_lag_events") == 0


def test_a_histogram_is_exposed_with_cumulative_buckets_and_le_bounds_inclusive() -> None:
    from paddock.services.counters import Counter as PaddockCounter
    from paddock.services.counters import Histogram
    from paddock.web.prometheus import family_of

    timing = Histogram("t_seconds", "t", ("route",), (0.1, 1.0))
    for seconds in (0.05, 0.1, 0.5, 3.0):
        timing.observe(seconds, "/a/{id}")
    found = {(s.name, s.labels.get("le")): s.value for s in family_of(timing).samples}
    assert found[("t_seconds_bucket", "0.1")] == 2  # 0.1 itself is in the `le="0.1"` bucket
    assert found[("t_seconds_bucket", "1.0")] == 3
    assert found[("t_seconds_bucket", "+Inf")] == found[("t_seconds_count", None)] == 4
    assert found[("t_seconds_sum", None)] == pytest.approx(3.65)
    # A counter nothing bumped yet reads 0 rather than missing from the scrape.
    assert [s.value for s in family_of(PaddockCounter("c", "c")).samples] == [0.0]


def test_preview_requests_are_one_route_and_keep_their_headers(tmp_path: Path) -> None:
    """A preview's answers are its app's: no X-Request-ID is added, and however many preview
    paths there are they are timed as one `(preview)` route."""
    from fastapi.testclient import TestClient

    from paddock.config import Settings
    from paddock.services.counters import REQUEST_SECONDS
    from paddock.web.app import create_app

    token = "m" * 32
    app = create_app(Settings(data_dir=tmp_path / "data", token=token))
    headers = {"Authorization": f"Bearer {token}"}
    paths = ("/preview/p1/a", "/preview/p2/b")
    hosts = ("x1.preview.localhost:8765", "x2.preview.localhost:8765")
    with TestClient(app, base_url="http://127.0.0.1:8765", headers=headers) as client:
        before = {k: s.count for k, s in REQUEST_SECONDS.series.items()}
        answers = [client.get(path) for path in paths]
        answers += [client.get("/", headers={"Host": host}) for host in hosts]
        assert all("x-request-id" not in answer.headers for answer in answers)
        assert "x-request-id" in client.get("/api/health").headers
    grown = {
        key: series.count - before.get(key, 0)
        for key, series in REQUEST_SECONDS.series.items()
        if series.count != before.get(key, 0)
    }
    assert sum(n for (_, route, _), n in grown.items() if route == "(preview)") == 4
    assert {route for _, route, _ in grown} == {"(preview)", "/api/health"}
