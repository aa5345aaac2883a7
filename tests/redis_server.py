"""A throwaway Redis server for the tests: `redis-server` on 127.0.0.1, a free port, its data
(the append-only file, so a restart keeps the streams) in a directory of its own.

The suite never uses the machine's running Redis. `./scripts/install --dev` installs the binary.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

INSTALL_HINT = "run ./scripts/install --dev (it installs Debian's redis-server package)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    def __init__(self, base_dir: Path) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            pytest.fail(f"redis-server not found: {INSTALL_HINT}", pytrace=False)
        self.binary = binary
        self.base_dir = base_dir
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.base_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
        ]
        log = (self.base_dir / "redis.log").open("ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        log_text = (self.base_dir / "redis.log").read_text(errors="replace")[-2000:]
        pytest.fail(f"redis-server did not start on {self.port}: {log_text}", pytrace=False)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None
