"""Runs the real `paddock serve` as a subprocess on a free port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

# The servers a failing test may have used: those started since the test began, and those
# still running (a shared fixture's). Their logs' tails go into the failure's report
# (tests/conftest.py), where CI shows them: a flake is read from what the server said.
_SEEN: dict[int, ServerProcess] = {}
REPORTED_LOG_LINES = 60


def servers_seen() -> list[ServerProcess]:
    return list(_SEEN.values())


def forget_stopped_servers() -> None:
    """Called as a test starts: a server stopped by an earlier test is not this one's."""
    for key, server in list(_SEEN.items()):
        if server.proc is None or server.proc.poll() is not None:
            del _SEEN[key]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(
        self,
        data_dir: Path,
        *,
        env: dict[str, str] | None = None,
        database_url: str | None = None,
        demo: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.preview_port = free_port()  # the previews' data plane (HAProxy)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "server.log"
        self.env = {
            **os.environ,
            **(env or {}),
            "PADDOCK_DATA_DIR": str(data_dir),
            "PADDOCK_PORT": str(self.port),
            "PADDOCK_PREVIEW_PLANE_PORT": str(self.preview_port),
            "PADDOCK_DEMO": "true" if demo else "false",
            "PADDOCK_STOP_GRACE_SECONDS": "2",
            "PADDOCK_OPEN_BROWSER": "false",
        }
        if database_url:
            self.env["PADDOCK_DATABASE_URL"] = database_url
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""  # the API token the server made (read from its data dir once it runs)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        plane = f"http://127.0.0.1:{self.preview_port}"
        self.plane_client = httpx.Client(base_url=plane, timeout=30)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _read_token(self) -> str:
        explicit = self.env.get("PADDOCK_TOKEN")
        if explicit:
            return explicit
        path = self.data_dir / "token"
        return path.read_text().strip() if path.is_file() else ""

    def start(self) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "paddock", "serve"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        _SEEN[id(self)] = self
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            self.token = self.token or self._read_token()
            if not self.token:
                time.sleep(0.05)
                continue
            self.client.headers.update(self.auth)
            try:
                if self.client.get("/api/health").status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not become healthy")

    def open(self, page: Any, path: str = "/") -> Any:
        """Navigate a Playwright page to `path`, signing its browser in first the way a user
        does: through the link `paddock serve` prints (the server sets its session cookie)."""
        cookies = page.context.cookies(self.url)
        if not any(c["name"] == f"paddock_session_{self.port}" for c in cookies):
            page.goto(f"{self.url}/?token={self.token}")
        return page.goto(f"{self.url}{path}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.client.close()
        self.plane_client.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = REPORTED_LOG_LINES) -> str:
        try:
            return "\n".join(self.log().splitlines()[-lines:])
        except OSError as exc:  # its data dir is gone with the test's tmp_path
            return f"(the log cannot be read: {exc})"

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- helpers for tests -------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code < 400, (response.status_code, response.text)
        return response.json() if response.content else None

    def sse(
        self,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        timeout: float = 60,
    ) -> Iterator[tuple[str | None, str, Any]]:
        """(id, event, data) of a server-sent event stream; comments are skipped."""
        with (
            httpx.Client(
                base_url=self.url, headers=self.auth, timeout=httpx.Timeout(timeout)
            ) as client,
            client.stream("GET", path, headers=headers, params=params) as response,
        ):
            assert response.status_code == 200, response.read()
            event_id, event, data = None, "message", ""
            for line in response.iter_lines():
                if line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif not line and data:
                    yield event_id, event, json.loads(data)
                    event_id, event, data = None, "message", ""


def make_repo(path: Path, files: dict[str, str] | None = None) -> Path:
    """A real git repository with one commit."""
    path.mkdir(parents=True)
    run = lambda *args: subprocess.run(  # noqa: E731
        ["git", *args], cwd=path, check=True, capture_output=True
    )
    run("init", "-q", "-b", "main")
    for name, text in (files or {"README.md": "# test repo\n"}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    run("add", "-A")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return path


def wait_for(predicate: Any, timeout: float = 30, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
