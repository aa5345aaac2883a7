"""The soak's side loads and readings: the steady API probe, the board churn, /proc counts and
/metrics values (bench/soak.py)."""

from __future__ import annotations

import abc
import os
import threading
import time
from pathlib import Path

import httpx
from _harness import Server, pct

PROBE_HZ = 10.0  # requests/s, alternating the two paths
CHURN_S = 2.0  # a task created, renamed, and the one CHURN_KEEP rounds older deleted
CHURN_KEEP = 5


def proc_counts(pid: int) -> tuple[int, int]:
    """(open fds, threads) of a process."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return fds, int(line.split()[1])
    raise RuntimeError("no Threads line")


def metric(server: Server, name: str) -> float:
    """A metric's value from /metrics, summed over its label sets."""
    text = server.client.get("/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name)] in " {":
            total += float(line.rsplit(" ", 1)[1])
    return total


class _Loop(abc.ABC):
    """A thread doing `tick` every `period` seconds, on a fixed schedule (a slow tick does not
    shift the ones after it, so the rate stays the same under load)."""

    period = 1.0

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        self.close()

    def _run(self) -> None:
        t0 = time.monotonic()
        k = 0
        while not self._stop.is_set():
            self.tick(k)
            k += 1
            wait = t0 + k * self.period - time.monotonic()
            if wait > 0:
                self._stop.wait(wait)

    @abc.abstractmethod
    def tick(self, k: int) -> None:
        """One period's work."""

    def close(self) -> None:  # a hook: most loops hold nothing to close
        return None


class Probe(_Loop):
    """GET /api/projects/{id}/tasks and /api/health, alternating, over one keep-alive
    connection of its own; `window()` gives the latencies since the last call."""

    period = 1 / PROBE_HZ

    def __init__(self, server: Server, project_id: str) -> None:
        super().__init__()
        self.server = server
        self.paths = [f"/api/projects/{project_id}/tasks", "/api/health"]
        self.client: httpx.Client | None = None
        self.samples: list[float] = []  # ms, this window
        self.all: list[tuple[float, str, float]] = []  # (monotonic, path, ms)
        self.errors = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        self.client = httpx.Client(
            base_url=self.server.url,
            timeout=30,
            headers={"Authorization": f"Bearer {self.server.token}"},
        )
        super().start()

    def tick(self, k: int) -> None:
        assert self.client is not None
        path = self.paths[k % 2]
        t = time.perf_counter()
        try:
            ok = self.client.get(path).status_code == 200
        except httpx.HTTPError:
            ok = False
        ms = (time.perf_counter() - t) * 1000
        with self._lock:
            if not ok:
                self.errors += 1
            self.samples.append(ms)
            self.all.append((time.monotonic(), path, ms))

    def window(self) -> tuple[float, float, int]:
        """(p50, p99, count) of the requests since the last call."""
        with self._lock:
            window, self.samples = self.samples, []
        return pct(window, 50), pct(window, 99), len(window)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


class Churn(_Loop):
    """Board traffic: every CHURN_S a task created and renamed, and the one CHURN_KEEP rounds
    older deleted, so the board and event streams have something to send."""

    period = CHURN_S

    def __init__(self, server: Server, project_id: str) -> None:
        super().__init__()
        self.server = server
        self.project_id = project_id
        self.tasks: list[str] = []
        self.errors: list[str] = []
        self.rounds = 0

    def tick(self, k: int) -> None:
        try:
            task = self.server.task(self.project_id, f"churn {k}")
            self.server.api("PATCH", f"/api/tasks/{task['id']}", json={"title": f"churn {k}'"})
            self.tasks.append(task["id"])
            if len(self.tasks) > CHURN_KEEP:
                self.server.api("DELETE", f"/api/tasks/{self.tasks.pop(0)}")
            self.rounds += 1
        except (RuntimeError, httpx.HTTPError) as exc:
            if len(self.errors) < 10:
                self.errors.append(str(exc)[:200])


def proc_inventory(pid: int) -> dict[str, dict[str, int]]:
    """What a process holds: its fds by kind (socket, pipe, anon_inode:[eventfd], a file's
    path) and its threads by name, each with a count, to tell a leak from a pool."""
    fds: dict[str, int] = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":[")[0] if ":[" in target else target
        fds[kind] = fds.get(kind, 0) + 1
    threads: dict[str, int] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        except OSError:
            continue
        threads[name] = threads.get(name, 0) + 1
    return {"fds": dict(sorted(fds.items())), "threads": dict(sorted(threads.items()))}


def host_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def host_busy(before: tuple[float, float], after: tuple[float, float]) -> float:
    """The machine's CPU busy between two host_cpu() readings, in % of one core."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total * 100 * (os.cpu_count() or 1) if total else 0.0
