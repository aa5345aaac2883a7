"""Resource limits and accounting for one sandbox: a cgroup of its own.

cgroup v1 (one directory per controller: memory, pids, cpu, cpuacct, freezer) where those are
mounted and writable; cgroup v2 (one directory) where the unified hierarchy has the controllers.
Every sandbox's cgroup lives under `<controller>/paddock/<server>/<process id>`, where `<server>`
names the server process (pid and start time): a server that starts removes the groups of
servers that are gone, killing anything left in them, and never touches a live server's; a
server that stops removes its own folder once its groups are gone.

A process joins its cgroup before it execs the sandbox (see `attach_argv`), so nothing it forks
can start outside the limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from paddock.domain.sandbox import LimitHit
from paddock.runtime import proctree

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "paddock"
V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "freezer")
V2_CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000


@dataclass(frozen=True, slots=True)
class CgroupLimits:
    memory_bytes: int | None = None
    swap_bytes: int | None = None  # on top of memory; None: no swap beyond memory
    cpus: float | None = None  # cores; None: no quota
    pids: int | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of a cgroup's counters."""

    cpu_ns: int  # CPU time used so far, all processes together
    memory_bytes: int
    peak_bytes: int
    pids: int


class Cgroup(Protocol):
    name: str

    def procs_files(self) -> list[Path]:
        """The files a process writes its pid to, to join the group."""
        ...

    def apply(self, limits: CgroupLimits) -> None: ...

    def sample(self) -> Sample | None:
        """None once the group is gone."""
        ...

    def limit_hit(self) -> LimitHit | None: ...

    def forget_usage(self) -> None:
        """Start the CPU and peak-memory counters again where the kernel allows it (v1)."""
        ...

    def kill(self) -> None:
        """SIGKILL every process in the group, none able to fork meanwhile."""
        ...

    def remove(self) -> bool:
        """Remove the group; False while the kernel still holds it (retry later)."""
        ...


def _read_int(path: Path, default: int = 0) -> int:
    try:
        text = path.read_text().strip()
    except OSError:
        return default
    if text == "max":
        return default
    try:
        return int(text.split()[0])
    except (ValueError, IndexError):
        return default


def _keyed(path: Path) -> dict[str, int]:
    """A `key value` per line file (memory.oom_control, memory.events, cpu.stat)."""
    values: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                values[key] = int(value)
    return values


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _pids_in(files: list[Path]) -> set[int]:
    pids: set[int] = set()
    for path in files:
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in path.read_text().split())
    return pids


class V1Cgroup:
    def __init__(self, root: Path, relative: Path) -> None:
        self.name = str(relative)
        self.dirs = {c: root / c / relative for c in V1_CONTROLLERS}

    def create(self) -> None:
        for path in self.dirs.values():
            path.mkdir(parents=True, exist_ok=True)

    def procs_files(self) -> list[Path]:
        return [path / "cgroup.procs" for path in self.dirs.values()]

    def apply(self, limits: CgroupLimits) -> None:
        memory = self.dirs["memory"]
        if limits.memory_bytes is not None:
            _write(memory / "memory.limit_in_bytes", str(limits.memory_bytes))
            memsw = memory / "memory.memsw.limit_in_bytes"
            if memsw.exists():  # swap accounting is on: bound memory + swap too
                _write(memsw, str(limits.memory_bytes + (limits.swap_bytes or 0)))
        if limits.pids is not None:
            _write(self.dirs["pids"] / "pids.max", str(limits.pids))
        if limits.cpus is not None:
            cpu = self.dirs["cpu"]
            _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(cpu / "cpu.cfs_quota_us", str(max(1000, int(limits.cpus * CPU_PERIOD_US))))

    def sample(self) -> Sample | None:
        memory = self.dirs["memory"]
        if not memory.is_dir():
            return None
        return Sample(
            cpu_ns=_read_int(self.dirs["cpuacct"] / "cpuacct.usage"),
            memory_bytes=_read_int(memory / "memory.usage_in_bytes"),
            peak_bytes=_read_int(memory / "memory.max_usage_in_bytes"),
            pids=_read_int(self.dirs["pids"] / "pids.current"),
        )

    def limit_hit(self) -> LimitHit | None:
        if _keyed(self.dirs["memory"] / "memory.oom_control").get("oom_kill", 0) > 0:
            return LimitHit.oom_killed
        if _keyed(self.dirs["pids"] / "pids.events").get("max", 0) > 0:
            return LimitHit.pids_limit
        return None

    def forget_usage(self) -> None:
        with contextlib.suppress(OSError):
            _write(self.dirs["memory"] / "memory.max_usage_in_bytes", "0")
        with contextlib.suppress(OSError):
            _write(self.dirs["cpuacct"] / "cpuacct.usage", "0")

    def kill(self) -> None:
        freezer = self.dirs["freezer"] / "freezer.state"
        frozen = False
        with contextlib.suppress(OSError):
            _write(freezer, "FROZEN")
            frozen = True
        try:
            for pid in _pids_in(self.procs_files()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        finally:
            if frozen:
                with contextlib.suppress(OSError):
                    _write(freezer, "THAWED")

    def remove(self) -> bool:
        removed = True
        for path in self.dirs.values():
            try:
                path.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                removed = False
        return removed


class V2Cgroup:
    def __init__(self, root: Path, relative: Path) -> None:
        self.name = str(relative)
        self.dir = root / relative

    def create(self) -> None:
        # Each level must hand the controllers down to the next.
        relative = Path(self.name)
        base = self.dir
        for _ in relative.parts:
            base = base.parent
        for part in relative.parts:
            with contextlib.suppress(OSError):
                controls = " ".join(f"+{c}" for c in V2_CONTROLLERS)
                _write(base / "cgroup.subtree_control", controls)
            base = base / part
            base.mkdir(exist_ok=True)

    def procs_files(self) -> list[Path]:
        return [self.dir / "cgroup.procs"]

    def apply(self, limits: CgroupLimits) -> None:
        if limits.memory_bytes is not None:
            _write(self.dir / "memory.max", str(limits.memory_bytes))
            with contextlib.suppress(OSError):
                _write(self.dir / "memory.swap.max", str(limits.swap_bytes or 0))
        if limits.pids is not None:
            _write(self.dir / "pids.max", str(limits.pids))
        if limits.cpus is not None:
            quota = max(1000, int(limits.cpus * CPU_PERIOD_US))
            _write(self.dir / "cpu.max", f"{quota} {CPU_PERIOD_US}")

    def sample(self) -> Sample | None:
        if not self.dir.is_dir():
            return None
        memory = _read_int(self.dir / "memory.current")
        return Sample(
            cpu_ns=_keyed(self.dir / "cpu.stat").get("usage_usec", 0) * 1000,
            memory_bytes=memory,
            peak_bytes=_read_int(self.dir / "memory.peak", memory),
            pids=_read_int(self.dir / "pids.current"),
        )

    def limit_hit(self) -> LimitHit | None:
        if _keyed(self.dir / "memory.events").get("oom_kill", 0) > 0:
            return LimitHit.oom_killed
        if _keyed(self.dir / "pids.events").get("max", 0) > 0:
            return LimitHit.pids_limit
        return None

    def forget_usage(self) -> None:
        """v2 counters cannot be reset: a spare's own start stays in them (a few ms, ~2 MB)."""

    def kill(self) -> None:
        try:
            _write(self.dir / "cgroup.kill", "1")
        except OSError:
            for pid in _pids_in(self.procs_files()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def remove(self) -> bool:
        try:
            self.dir.rmdir()
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True


def server_name(pid: int | None = None) -> str:
    """This server's directory name: its pid and start time, so a reused pid is not mistaken
    for a live server."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{proctree.start_time(pid) or 0}"


def server_alive(name: str) -> bool:
    pid = name.partition("-")[0]
    return pid.isdigit() and server_name(int(pid)) == name


class Hierarchy:
    """Where this server makes cgroups, and whether it can (`problem` says why not)."""

    def __init__(self, root: Path = CGROUP_ROOT, server: str | None = None) -> None:
        self.root = root
        self.server = server or server_name()
        self.version, self.problem = self._detect()

    def _detect(self) -> tuple[int | None, str | None]:
        v1 = [self.root / c for c in V1_CONTROLLERS]
        if all((path / "cgroup.procs").exists() for path in v1):
            if all(os.access(path, os.W_OK) for path in v1):
                return 1, None
            return None, f"cgroup v1 is mounted at {self.root} but not writable (run as root)"
        unified = self.root / "cgroup.controllers"
        if not unified.exists():
            unified = self.root / "unified" / "cgroup.controllers"
        if unified.exists():
            have = set(unified.read_text().split())
            missing = [c for c in V2_CONTROLLERS if c not in have]
            if missing:
                return None, f"cgroup v2 at {unified.parent} lacks controllers {missing}"
            if not os.access(unified.parent, os.W_OK):
                return None, f"cgroup v2 at {unified.parent} is not writable here"
            self.root = unified.parent
            return 2, None
        return None, f"no cgroup hierarchy found under {self.root}"

    @property
    def available(self) -> bool:
        return self.version is not None

    def create(self, tag: str, limits: CgroupLimits) -> Cgroup:
        relative = Path(PARENT) / self.server / tag
        group = self._group(relative)
        group.create()
        try:
            group.apply(limits)
        except OSError:
            group.remove()
            raise
        return group

    def _group(self, relative: Path) -> V1Cgroup | V2Cgroup:
        if self.version == 1:
            return V1Cgroup(self.root, relative)
        return V2Cgroup(self.root, relative)

    def close(self) -> bool:
        """At shutdown (blocking): remove this server's own folder (`paddock/<server>`) once
        its groups are gone; a group still there keeps it, for the next start to reap.
        Whether nothing of this server is left."""
        if not self.available:
            return True
        left = False
        for controller in self._controllers():
            try:
                (self.root / controller / PARENT / self.server).rmdir()
            except FileNotFoundError:
                pass
            except OSError:  # not empty: a group the kernel still holds
                left = True
        return not left

    def _controllers(self) -> tuple[str, ...]:
        """The folders one group spans: a controller's each (v1), or the one tree (v2)."""
        return V1_CONTROLLERS if self.version == 1 else ("",)

    def _servers(self) -> Iterator[tuple[str, list[V1Cgroup | V2Cgroup]]]:
        base = self.root / ("memory" if self.version == 1 else "") / PARENT
        with contextlib.suppress(OSError):
            for server in sorted(p.name for p in base.iterdir() if p.is_dir()):
                groups: list[V1Cgroup | V2Cgroup] = []
                for tag in sorted(p.name for p in (base / server).iterdir() if p.is_dir()):
                    groups.append(self._group(Path(PARENT) / server / tag))
                yield server, groups

    def reap_stale(self) -> list[str]:
        """Kill what is left in the groups of servers that are gone, and remove the groups.
        Returns the names of the groups removed."""
        if not self.available:
            return []
        removed = []
        for server, groups in self._servers():
            if server == self.server or server_alive(server):
                continue
            for group in groups:
                group.kill()
                if remove_soon(group):
                    removed.append(group.name)
            for controller in self._controllers():
                with contextlib.suppress(OSError):
                    (self.root / controller / PARENT / server).rmdir()
        return removed


def remove_soon(group: Cgroup, tries: int = 50) -> bool:
    """Remove a group whose processes were just killed: the kernel frees it shortly after
    (blocking)."""
    for _ in range(tries):
        if group.remove():
            return True
        time.sleep(0.05)
    return False


async def remove_when_free(group: Cgroup, tries: int = 100) -> None:
    """Remove a group once the kernel lets go of it: a pid namespace's last pid is freed a
    little after it exits. A group still there is removed at the next start-up."""
    for _ in range(tries):
        if group.remove():
            return
        await asyncio.sleep(0.05)


def attach_argv(group: Cgroup, argv: list[str]) -> list[str]:
    """`argv` run by a shell that first moves itself into `group` (it then execs `argv`, so
    the sandbox and everything it forks start inside the limits)."""
    joins = " && ".join(f'echo $$ > "{path}"' for path in group.procs_files())
    return ["/bin/sh", "-c", f'{joins} && exec "$@"', "paddock-sandbox", *argv]
