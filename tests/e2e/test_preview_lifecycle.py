"""A preview's life around its attempt: several services that know each other, a database of
its own (SQLite, PostgreSQL schema), network "none" through the bridge, idle TTL, the
attempt's deletion, a server restart."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_previews import PREVIEW_ENV, attempt_writing, key_of, project_with, start
from tests.security.conftest import provider_problem

# A dev server that answers with what it was given and what its database holds.
SERVE = """
import http.server, json, os, sqlite3, sys

def database_says():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url[len("sqlite:///"):])
        db.execute("create table if not exists hits (n integer)")
        db.execute("insert into hits values (1)")
        db.commit()
        return {"kind": "sqlite", "hits": db.execute("select count(*) from hits").fetchone()[0]}
    if url.startswith("postgresql://"):
        import psycopg
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("create table if not exists hits (n integer)")
            db.execute("insert into hits values (1)")
            hits = db.execute("select count(*) from hits").fetchone()[0]
            schema = db.execute("select current_schema()").fetchone()[0]
        return {"kind": "postgres", "hits": hits, "schema": schema}
    return {"kind": "none"}

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        env = {k: v for k, v in os.environ.items() if k.startswith("PADDOCK_SERVICE_")}
        db = database_says() if self.path == "/hit" else None  # readiness asks for "/"
        body = json.dumps({"name": sys.argv[1], "env": env, "db": db}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""
PYTHON = sys.executable


def ask(server: ServerProcess, preview: dict[str, Any], path: str = "/") -> dict[str, Any]:
    response = server.client.get(
        path,
        headers={
            "host": f"{preview['host']}.preview.localhost:{server.port}",
            "x-paddock-preview-key": key_of(server, preview),
        },
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def app_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"serve.py": SERVE})


def test_several_services_each_get_a_host_and_each_others_urls(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as server:
        project = project_with(
            server,
            app_repo(tmp_path),
            f"{PYTHON} serve.py web",
            services={"api": f"{PYTHON} serve.py api"},
        )
        attempt = attempt_writing(server, project, "true")
        previews = {p["service"]: p for p in start(server, attempt)}
        assert set(previews) == {"api", "web"}
        assert all(p["status"] == "running" for p in previews.values()), previews
        slug = attempt["id"][:10]
        assert previews["web"]["host"] == f"web-{slug}" and previews["api"]["host"] == f"api-{slug}"
        web, api = ask(server, previews["web"]), ask(server, previews["api"])
        assert (web["name"], api["name"]) == ("web", "api")
        assert (
            web["env"]["PADDOCK_SERVICE_API_URL"] == f"http://127.0.0.1:{previews['api']['port']}"
        )
        assert web["env"]["PADDOCK_SERVICE_API_PUBLIC_URL"] == previews["api"]["url"]
        assert (
            api["env"]["PADDOCK_SERVICE_WEB_URL"] == f"http://127.0.0.1:{previews['web']['port']}"
        )


def test_each_attempt_gets_its_own_sqlite_file(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as server:
        project = project_with(
            server, app_repo(tmp_path), f"{PYTHON} serve.py web", database="sqlite"
        )
        first = attempt_writing(server, project, "true")
        second = attempt_writing(server, project, "true")
        [one] = start(server, first)
        [two] = start(server, second)
        assert ask(server, one, "/hit")["db"] == {"kind": "sqlite", "hits": 1}
        assert ask(server, one, "/hit")["db"]["hits"] == 2  # the same file, kept
        assert ask(server, two, "/hit")["db"] == {"kind": "sqlite", "hits": 1}  # its own
        data = tmp_path / "data" / "attempt-data"
        assert (data / first["id"] / "preview.sqlite3").is_file()
        server.api("DELETE", f"/api/attempts/{first['id']}")
        assert not (data / first["id"]).exists()  # gone with its attempt
        assert (data / second["id"] / "preview.sqlite3").is_file()


def test_each_attempt_gets_its_own_postgres_schema_dropped_with_it(
    tmp_path: Path, pg_server_url: str
) -> None:
    env = {**PREVIEW_ENV, "PADDOCK_PREVIEW_POSTGRES_URL": pg_server_url}
    with ServerProcess(tmp_path / "data", env=env) as server:
        project = project_with(
            server, app_repo(tmp_path), f"{PYTHON} serve.py web", database="postgres"
        )
        first = attempt_writing(server, project, "true")
        second = attempt_writing(server, project, "true")
        [one] = start(server, first)
        [two] = start(server, second)
        said = ask(server, one, "/hit")["db"]
        assert said == {"kind": "postgres", "hits": 1, "schema": f"attempt_{first['id']}"}
        assert ask(server, two, "/hit")["db"]["hits"] == 1  # its own table, in its own schema
        server.api("DELETE", f"/api/attempts/{first['id']}")
    with psycopg.connect(pg_server_url) as db:
        schemas = {row[0] for row in db.execute("select nspname from pg_namespace")}
    assert f"attempt_{first['id']}" not in schemas
    assert f"attempt_{second['id']}" in schemas


@pytest.mark.parametrize("provider", ["bwrap", "container"])
def test_a_preview_in_a_network_none_sandbox_is_reached_through_the_bridge(
    tmp_path: Path, provider: str
) -> None:
    problem = provider_problem(provider)
    if problem is not None:
        pytest.skip(f"sandbox provider {provider} cannot run here: {problem}")
    python = "python3" if provider == "container" else PYTHON  # the image's own
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as server:
        project = project_with(
            server,
            app_repo(tmp_path),
            f"{python} serve.py web",
            sandbox={"provider": provider, "network": "none"},
        )
        attempt = attempt_writing(server, project, "true")
        [preview] = start(server, attempt)
        assert preview["status"] == "running", preview
        assert ask(server, preview)["name"] == "web"
        # Its 127.0.0.1 is its own: nothing listens on that port on the host's.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", preview["port"]), timeout=2).close()
        stopped = server.api("DELETE", f"/api/previews/{preview['id']}")
        assert stopped["status"] == "stopped"


def test_an_idle_preview_is_stopped_and_says_why(tmp_path: Path) -> None:
    env = {**PREVIEW_ENV, "PADDOCK_PREVIEW_IDLE_MINUTES": "0.05"}  # 3 s
    with ServerProcess(tmp_path / "data", env=env) as server:
        project = project_with(server, app_repo(tmp_path), f"{PYTHON} serve.py web")
        attempt = attempt_writing(server, project, "true")
        [preview] = start(server, attempt)
        ask(server, preview)

        def stopped() -> dict[str, Any] | None:
            now = server.api("GET", f"/api/previews/{preview['id']}")
            return now if now["status"] == "stopped" else None

        final = wait_for(stopped, 30, 0.2)
        assert "without requests" in final["notice"]
        process = server.api("GET", f"/api/processes/{preview['process_id']}")
        assert process["status"] == "stopped"


def test_a_restarted_server_reconciles_previews_and_deleting_the_attempt_stops_them(
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path / "data", env=PREVIEW_ENV).start()
    try:
        project = project_with(server, app_repo(tmp_path), f"{PYTHON} serve.py web")
        attempt = attempt_writing(server, project, "true")
        [preview] = start(server, attempt)
        server.kill9()  # its dev server dies with it (its process group, its sandbox)
    finally:
        server.stop()
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as again:
        now = again.api("GET", f"/api/previews/{preview['id']}")
        assert now["status"] == "stopped" and "restarted" in now["notice"]
        [back] = start(again, attempt)
        assert back["status"] == "running" and back["host"] == preview["host"]
        again.api("DELETE", f"/api/attempts/{attempt['id']}")
        gone = again.client.get(
            "/", headers={"host": f"{preview['host']}.preview.localhost:{again.port}"}
        )
        assert gone.status_code == 404  # the preview went with its attempt
