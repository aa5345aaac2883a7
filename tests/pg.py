"""A throwaway PostgreSQL server for the test suite.

The suite never uses a server it did not start: `PgServer.start()` runs `initdb` into a fresh
directory under the temp dir, starts `postgres` on 127.0.0.1 on a free port with its unix socket
in that directory and durability switched off (fsync, full_page_writes, synchronous_commit), and
`stop()` kills it and deletes the directory. PostgreSQL refuses to run as root, so as root the
server runs as the `postgres` OS user (created by Debian's postgresql packages).

Binaries are looked up on PATH, then under /usr/lib/postgresql/<version>/bin (newest first).
`./scripts/install --dev` installs them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

BINARIES = ("initdb", "pg_ctl", "postgres")
SERVICE_USER = "postgres"
INSTALL_HINT = "run ./scripts/install --dev (it installs Debian's postgresql package)"
_START_TRIES = 3


class PgUnavailableError(RuntimeError):
    """The server could not be found or started; the message says what to do."""


def find_bin_dir() -> Path:
    """The directory holding initdb, pg_ctl and postgres."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
        candidates.append(Path(on_path).parent)

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", p.parent.name))

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for d in candidates:
        if all(os.access(d / name, os.X_OK) for name in BINARIES):
            return d
    raise PgUnavailableError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH nor "
        f"under /usr/lib/postgresql/*/bin: {INSTALL_HINT}"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PgServer:
    """A running throwaway server. Connect as the trusted superuser `postgres`."""

    bin_dir: Path
    base_dir: Path
    port: int = 0
    _run_as: pwd.struct_passwd | None = field(default=None, repr=False)
    _running: bool = field(default=False, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def url(self) -> str:
        """URL of the maintenance database `postgres` (libpq and SQLAlchemy both accept it)."""
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{SERVICE_USER}@127.0.0.1:{self.port}/{dbname}"

    # --- lifecycle -------------------------------------------------------------------------

    @classmethod
    def start(cls) -> PgServer:
        bin_dir = find_bin_dir()
        run_as: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                run_as = pwd.getpwnam(SERVICE_USER)
            except KeyError:
                raise PgUnavailableError(
                    f"running as root, and PostgreSQL refuses to run as root, but there is no "
                    f"'{SERVICE_USER}' OS user to run it as: {INSTALL_HINT}"
                ) from None
        base_dir = Path(tempfile.mkdtemp(prefix="paddock-pg-"))
        server = cls(bin_dir=bin_dir, base_dir=base_dir, _run_as=run_as)
        atexit.register(server.stop)
        try:
            if run_as is not None:
                os.chown(base_dir, run_as.pw_uid, run_as.pw_gid)
            server._initdb()
            server._start_server()
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, *args: str, output: Path | None = None, timeout: float = 120) -> None:
        """Run a PostgreSQL binary as the service user; raise with its output on failure."""
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        out_path = output or self.base_dir / f"{args[0]}.out"
        # Output goes to a file, not a pipe: pg_ctl's server child must not hold our pipe open.
        with open(out_path, "ab") as out:
            if self._run_as is not None:
                os.chown(out_path, self._run_as.pw_uid, self._run_as.pw_gid)
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                env=self._env(),
                timeout=timeout,
                check=False,
                user=self._run_as.pw_uid if self._run_as else None,
                group=self._run_as.pw_gid if self._run_as else None,
                extra_groups=[] if self._run_as else None,
            )
        if proc.returncode != 0:
            text = out_path.read_text(errors="replace")[-4000:]
            raise PgUnavailableError(f"{args[0]} failed (exit {proc.returncode}):\n{text}")

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env["LANG"] = "C"
        if self._run_as is not None:
            env["HOME"] = str(self.base_dir)
            env["USER"] = env["LOGNAME"] = self._run_as.pw_name
        return env

    def _initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            SERVICE_USER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def _start_server(self) -> None:
        last: PgUnavailableError | None = None
        for _ in range(_START_TRIES):  # the free port may be taken between bind and listen
            self.port = free_port()
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-c port={self.port}",
                    f"-c unix_socket_directories={self.base_dir}",
                    "-c fsync=off",
                    "-c full_page_writes=off",
                    "-c synchronous_commit=off",
                    "-c max_connections=200",
                ]
            )
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                )
            except PgUnavailableError as exc:
                log = ""
                if self.log_file.exists():
                    log = self.log_file.read_text(errors="replace")[-4000:]
                last = PgUnavailableError(f"{exc}\nserver log:\n{log}")
                continue
            self._running = True
            return
        assert last is not None
        raise last

    def stop(self) -> None:
        """Kill the server (no checkpoint: its data is thrown away) and delete its directory."""
        if self._running:
            self._running = False
            with contextlib.suppress(PgUnavailableError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w")
        shutil.rmtree(self.base_dir, ignore_errors=True)

    # --- databases -------------------------------------------------------------------------

    def create_database(self, prefix: str = "t_") -> str:
        """Create an empty database with a random name and return its name."""
        name = f"{prefix}{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
