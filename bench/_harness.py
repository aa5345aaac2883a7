"""Shared helpers for the benches: a real `paddock serve` subprocess, git repos, SSE clients,
/proc readings, statistics and the result table.

Nothing here imports from tests/; the server is started the way tests/e2e/server.py does it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
# An attempt whose agent's turn ended, one way or another (paddock.domain.states.AttemptStatus).
SETTLED = ("awaiting_review", "failed", "stopped")


# --- server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m paddock serve` on a free port with a temporary data dir (demo off)."""

    def __init__(
        self,
        data_dir: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="paddock-bench-")
            data_dir = Path(self._tmp.name) / "data"
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        # The API asks every request for the token (docs/security.md): the bench picks one.
        self.token = (env or {}).get("PADDOCK_TOKEN") or secrets.token_urlsafe(32)
        self.env = {
            **os.environ,
            **(env or {}),
            "PADDOCK_DATA_DIR": str(data_dir),
            "PADDOCK_PORT": str(self.port),
            "PADDOCK_DEMO": "false",
            "PADDOCK_STOP_GRACE_SECONDS": "2",
            "PADDOCK_TOKEN": self.token,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(
            base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {self.token}"}
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        # --no-demo as well: `serve` passes its --demo option (default True) as an init
        # argument, which outranks PADDOCK_DEMO=false (see bench/README.md).
        argv = [PYTHON, "-m", "paddock", "serve", "--no-demo"]
        self.proc = subprocess.Popen(
            argv,
            env=self.env,
            cwd=str(ROOT),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()[-3000:]}")
            try:
                if self.client.get("/api/health").status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not become healthy")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.client.close()

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def problems(self, keep_as: str | None = None) -> list[str]:
        """Log records of the server that look like trouble (WARNING and up, tracebacks), each
        with its traceback. With `keep_as`, the whole log is copied to
        bench/results/<keep_as>-server.log when there is any."""
        text = self.log()
        out: list[str] = []
        record: list[str] = []
        for line in text.splitlines():
            starts_record = line[:4].isdigit() or line.startswith(("INFO:", "WARNING:", "ERROR:"))
            if starts_record and record:
                out.append("\n".join(record))
                record = []
            if starts_record:
                if any(k in line for k in ("WARNING", "ERROR", "CRITICAL")):
                    record = [line]
            elif record:
                record.append(line)
        if record:
            out.append("\n".join(record))
        if out and keep_as:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / f"{keep_as}-server.log").write_text(text)
        return out

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    # -- /proc readings -------------------------------------------------------------------------

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def io(self) -> dict[str, int]:
        return proc_io(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    # -- convenience ----------------------------------------------------------------------------

    def project(self, repo: Path) -> dict[str, Any]:
        project: dict[str, Any] = self.api("POST", "/api/projects", json={"path": str(repo)})
        return project

    def task(self, project_id: str, title: str = "bench task") -> dict[str, Any]:
        task: dict[str, Any] = self.api(
            "POST", f"/api/projects/{project_id}/tasks", json={"title": title}
        )
        return task

    def start_attempt(self, task_id: str, command: str) -> dict[str, Any]:
        attempt: dict[str, Any] = self.api(
            "POST",
            f"/api/tasks/{task_id}/attempts",
            json={"agent": {"profile": "script", "command": command}},
        )
        return attempt

    def agent_process(self, attempt_id: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            procs = self.api("GET", f"/api/attempts/{attempt_id}/processes")
            for proc in procs:
                if proc["reason"] == "agent":
                    return dict(proc)
            time.sleep(0.01)
        raise RuntimeError(f"attempt {attempt_id} has no agent process")

    def delete_attempt(self, attempt_id: str) -> None:
        self.api("DELETE", f"/api/attempts/{attempt_id}", params={"delete_branch": "true"})


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def proc_io(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = int(value)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process (all threads), in seconds."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw.rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# --- git ---------------------------------------------------------------------------------------


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True)


def make_repo(path: Path, files: dict[str, str]) -> Path:
    """A real repository with one commit on `main` holding `files`."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(path, "add", "-A")
    git(path, "-c", "user.name=bench", "-c", "user.email=bench@bench", "commit", "-q", "-m", "init")
    return path


def small_files(count: int = 20) -> dict[str, str]:
    files = {"README.md": "# bench repo\n"}
    for i in range(count - 1):
        files[f"src/mod{i // 5}/file{i}.py"] = f"VALUE = {i}\n" * 10
    return files


def make_big_repo(path: Path, count: int) -> Path:
    """`count` small files in nested directories (100 per dir, 10 dirs per parent)."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for i in range(count):
        d = path / f"d{i // 10000}" / f"e{(i // 1000) % 10}" / f"f{(i // 100) % 10}"
        if i % 100 == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i}.txt").write_text(f"file {i}\nsome content {i * 7}\n")
    git(path, "add", "-A")
    git(path, "-c", "user.name=bench", "-c", "user.email=bench@bench", "commit", "-q", "-m", "init")
    return path


# --- SSE ---------------------------------------------------------------------------------------


@dataclass
class SSEEvent:
    event: str
    data: bytes  # raw JSON, parsed lazily by .json()
    id: str | None
    received: float  # time.perf_counter() when the bytes holding its end arrived
    received_wall: float  # time.time() at the same moment

    def json(self) -> Any:
        return json.loads(self.data)


class SSEParser:
    """Incremental HTTP/1.1 response + chunked transfer + SSE parser over raw bytes.

    feed(bytes) returns complete events. Cheap enough for 100k events/s in one process."""

    def __init__(self, wanted: frozenset[bytes] | None = None) -> None:
        self._raw = b""
        self._headers_done = False
        self.status = 0
        self.chunked = False
        self._chunk_left = 0  # bytes of the current chunk still to come (+2 for CRLF)
        self._body = b""
        self.closed = False
        self.wanted = wanted  # event names to return in full; others are only counted
        self.skipped = 0

    def feed(self, data: bytes, now: float, wall: float) -> list[SSEEvent]:
        raw = self._raw + data if self._raw else data
        self._raw = b""
        if not self._headers_done:
            end = raw.find(b"\r\n\r\n")
            if end < 0:
                self._raw = raw
                return []
            head = raw[:end].decode("latin-1").split("\r\n")
            self.status = int(head[0].split()[1])
            self.chunked = any(
                h.lower().startswith("transfer-encoding:") and "chunked" in h.lower()
                for h in head[1:]
            )
            self._headers_done = True
            raw = raw[end + 4 :]
        if self.chunked:
            out = []
            pos = 0
            n = len(raw)
            while pos < n:
                if self._chunk_left:
                    take = min(self._chunk_left, n - pos)
                    out.append(raw[pos : pos + take])
                    pos += take
                    self._chunk_left -= take
                    continue
                if raw.startswith(b"\r\n", pos):
                    pos += 2
                    continue
                eol = raw.find(b"\r\n", pos)
                if eol < 0:
                    self._raw = raw[pos:]
                    break
                size = int(raw[pos:eol].split(b";")[0], 16)
                pos = eol + 2
                if size == 0:
                    self.closed = True
                    break
                self._chunk_left = size
            body = b"".join(out)
        else:
            body = raw
        return self._events(body, now, wall)

    def _events(self, body: bytes, now: float, wall: float) -> list[SSEEvent]:
        buf = self._body + body if self._body else body
        parts = buf.split(b"\n\n")
        self._body = parts.pop()
        events = []
        wanted = self.wanted
        for block in parts:
            if block.startswith(b":"):
                continue  # a comment (heartbeat)
            start = 6 if block.startswith(b"event:") else block.find(b"\nevent:") + 7
            if start < 7 and not block.startswith(b"event:"):
                event = b"message"
            else:
                end = block.find(b"\n", start)
                event = (block[start:] if end < 0 else block[start:end]).strip()
            if wanted is not None and event not in wanted:
                self.skipped += 1
                continue
            data = b""
            eid = None
            for line in block.split(b"\n"):
                if line.startswith(b"data:"):
                    data = line[5:].strip()
                elif line.startswith(b"id:"):
                    eid = line[3:].strip().decode()
            events.append(SSEEvent(event.decode(), data, eid, now, wall))
        return events


def _request(host: str, port: int, path: str, headers: dict[str, str] | None = None) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
        f"Cache-Control: no-cache\r\n{extra}\r\n"
    ).encode()


class SSEThread:
    """An SSE stream read by a background thread into a queue of SSEEvents."""

    def __init__(
        self,
        url: str,
        path: str,
        wanted: frozenset[bytes] | None = None,
        *,
        token: str | None = None,
    ) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        auth = {"Authorization": f"Bearer {token}"} if token else None
        self.sock.sendall(_request(host, int(port), path, auth))
        self.parser = SSEParser(wanted)
        self.events: Queue[SSEEvent | None] = Queue()
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while not self._stop:
                data = self.sock.recv(1 << 16)
                now, wall = time.perf_counter(), time.time()
                if not data:
                    break
                for event in self.parser.feed(data, now, wall):
                    self.events.put(event)
                if self.parser.closed:
                    break
        except OSError:
            pass
        finally:
            self.events.put(None)

    def next(self, timeout: float = 30) -> SSEEvent:
        try:
            event = self.events.get(timeout=timeout)
        except Empty:
            raise TimeoutError("no SSE event in time") from None
        if event is None:
            raise EOFError("SSE stream closed")
        return event

    def wait_for(self, predicate: Callable[[SSEEvent], bool], timeout: float = 30) -> SSEEvent:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("SSE event not seen in time")
            event = self.next(left)
            if predicate(event):
                return event

    def drain(self) -> None:
        while True:
            try:
                self.events.get_nowait()
            except Empty:
                return

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)


# --- statistics and output ---------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (0..100), linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    measurement: str
    paddock: float | str
    baseline: float | str
    delta: str  # "ratio/delta" column, already formatted
    target: str
    met: bool | None  # None: not applicable
    unit: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def fmt(value: float | str, unit: str = "") -> str:
    if isinstance(value, str):
        return value
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def table(rows: list[Row]) -> str:
    head = ["measurement", "paddock", "baseline", "ratio/delta", "target", "met?"]
    body = [
        [
            r.measurement,
            fmt(r.paddock, r.unit),
            fmt(r.baseline, r.unit),
            r.delta,
            r.target,
            "-" if r.met is None else ("yes" if r.met else "NO"),
        ]
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep, *(line(b) for b in body)])


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "git": git(ROOT, "--version").stdout.decode().strip(),
    }


def note_server_problems(
    name: str, problems: list[str], notes: list[str], details: dict[str, Any]
) -> None:
    """Warnings/errors the server logged during a bench go into its notes and results."""
    if problems:
        notes.append(
            f"server log had {len(problems)} warning/error records (see "
            f"bench/results/{name}-server.log), e.g.: {problems[0].splitlines()[0]}"
        )
        details["server_log_problems"] = problems[:50]


def report(name: str, rows: list[Row], details: dict[str, Any], notes: list[str]) -> None:
    """Print the table (and notes), write bench/results/<name>.json."""
    print()
    print(table(rows))
    for note in notes:
        print(f"  * {note}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "bench": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "rows": [
            {
                "measurement": r.measurement,
                "paddock": r.paddock,
                "baseline": r.baseline,
                "ratio_delta": r.delta,
                "target": r.target,
                "met": r.met,
                "unit": r.unit,
                **r.extra,
            }
            for r in rows
        ],
        "details": details,
        "notes": notes,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    print(f"\nresults written to {path.relative_to(ROOT)}")


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def iter_chunks(seq: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
