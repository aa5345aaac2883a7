"""Reaching a container engine's Docker Engine API: where its socket is, a client for it, and
a Podman service of Paddock's own where nothing else serves the API.

Where no Docker engine or Podman socket unit runs (no systemd), whoever needs the API starts
`podman system service` on a Unix socket: the test suite does (on a temporary socket), and so
may a server configured to. It is stopped by the pid it was started with, never by name.
Containers outlive the service (each has its own conmon); the container provider removes its
own.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from paddock.runtime import proctree

SOCKETS = ("/run/podman/podman.sock", "/var/run/docker.sock")
_VERSIONS: dict[str, str] = {}  # the API version each engine answered


def socket_url(configured: str | None = None) -> str:
    """The engine's API URL: the setting, else $DOCKER_HOST, else the first socket present
    (Podman's rootful socket, Docker's; a rootless Podman's when not root)."""
    if configured:
        return configured if "://" in configured else f"unix://{configured}"
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    candidates = list(SOCKETS)
    if os.geteuid() != 0:
        runtime_dir = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.geteuid()}"
        candidates.insert(0, f"{runtime_dir}/podman/podman.sock")
    for path in candidates:
        if Path(path).exists():
            return f"unix://{path}"
    return f"unix://{candidates[0]}"


def connect(url: str | None = None, timeout: float = 60) -> Any:
    """A `docker.DockerClient` for the engine at `url` (see `socket_url`). The API version is
    asked once per URL (Podman answers /version slowly: half a second), then reused."""
    import docker  # type: ignore[import-untyped]

    url = socket_url(url)
    version = _VERSIONS.get(url, "auto")
    options = {"version": version, "timeout": timeout, "max_pool_size": 64}
    if url == os.environ.get("DOCKER_HOST"):  # with its TLS settings, if any
        client = docker.from_env(**options)
    else:
        client = docker.DockerClient(base_url=url, **options)
    _VERSIONS[url] = client.api.api_version
    return client


def sdk_missing() -> bool:
    """Whether the `docker` SDK cannot be imported (then the provider says so, nothing fails)."""
    return importlib.util.find_spec("docker") is None


def explain(exc: BaseException) -> str:
    return str(getattr(exc, "explanation", None) or exc).strip()


class PodmanServiceError(RuntimeError):
    pass


def answers(path: Path, timeout: float = 2.0) -> bool:
    """Whether an engine answers `GET /_ping` on the Unix socket at `path`."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: localhost\r\n\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    return reply.startswith(b"HTTP/1.") and b" 200 " in reply[:16]


class PodmanService:
    """A `podman system service` of Paddock's own, known by its pid and start time (written
    next to its socket, so a server that follows a crashed one can take it over and stop it)."""

    def __init__(
        self, pid: int, start_time: int | None, path: Path, proc: subprocess.Popen[bytes] | None
    ) -> None:
        self.pid = pid
        self.start_time = start_time
        self.path = path
        self.proc = proc  # None: taken over from a server that is gone

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    @staticmethod
    def pid_file(path: Path) -> Path:
        return path.with_name(path.name + ".pid")

    @classmethod
    def start(cls, path: Path, timeout: float = 30.0) -> PodmanService:
        """Start the service on `path` and wait until it answers."""
        podman = shutil.which("podman")
        if podman is None:
            raise PodmanServiceError("podman is not installed (scripts/install --containers)")
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        log = path.with_name(path.name + ".log")
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [podman, "system", "service", "--time=0", f"unix://{path}"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # conmon leaves an `oom` marker in its working directory when a container
                # runs out of memory: that must be a folder of Paddock's, not the user's.
                cwd=path.parent,
            )
        service = cls(proc.pid, proctree.start_time(proc.pid), path, proc)
        cls.pid_file(path).write_text(f"{service.pid} {service.start_time or 0}\n")
        deadline = time.monotonic() + timeout
        while not answers(path):
            if proc.poll() is not None or time.monotonic() > deadline:
                service.stop()
                tail = log.read_text(errors="replace")[-1500:]
                raise PodmanServiceError(f"podman system service did not start: {tail}")
            time.sleep(0.05)
        return service

    @classmethod
    def take_over(cls, path: Path) -> PodmanService | None:
        """The service a server that is gone started on `path`, if it still runs."""
        try:
            pid_text, _, start_text = cls.pid_file(path).read_text().partition(" ")
            pid, start_time = int(pid_text), int(start_text)
        except (OSError, ValueError):
            return None
        if not proctree.is_alive(pid, start_time) or proctree.command_name(pid) != "podman":
            return None
        return cls(pid, start_time, path, None)

    def stop(self, grace: float = 10.0) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(grace)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        else:
            self._stop_adopted(grace)
        for leftover in (self.path, self.pid_file(self.path)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()

    def _stop_adopted(self, grace: float) -> None:
        """Not our child: signal it by pid (checked against its start time), poll its end."""
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            if not proctree.is_alive(self.pid, self.start_time):
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
            deadline = time.monotonic() + wait
            while proctree.is_alive(self.pid, self.start_time) and time.monotonic() < deadline:
                time.sleep(0.05)
