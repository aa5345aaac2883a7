"""A running container's cgroup, read from the host: resource use and which limit it hit.

The engine makes and removes the container's cgroup; Paddock only reads it, found through the
container's host pid (`/proc/<pid>/cgroup`), and only when that path names the container (the
engine runs on this machine, not in a VM or on another host).

On cgroup v1 Podman never sets the OOMKilled flag, and the container's cgroup is removed
within milliseconds of the kill, before anyone could read its `oom_kill` counter. So, as
Docker and conmon do, an eventfd is registered for the memory cgroup's OOM notifications
(`cgroup.event_control`): the kernel signals it when an OOM starts (before the kill, while the
cgroup still exists) and once more when the cgroup is removed. A pids limit hit leaves
the `pids.events` counter, which the kernel announces to inotify watchers on cgroup v2 only;
on v1 its one announcement is a kernel log line ("fork rejected by pids controller in <path>",
once per cgroup), read from /dev/kmsg. A thread listens to all of these, so even a container
that ends right after hitting a limit is reported; counters are also read while it runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import threading
from pathlib import Path
from typing import Any

from paddock.domain.sandbox import LimitHit
from paddock.runtime.sandbox.cgroups import CGROUP_ROOT, V1_CONTROLLERS, Sample, V1Cgroup, V2Cgroup


def _keyed(path: Path) -> dict[str, int]:
    values: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                values[key] = int(value)
    return values


def find_cgroup(
    pid: int, container_id: str, root: Path = CGROUP_ROOT
) -> V1Cgroup | V2Cgroup | None:
    """The cgroup of the container whose init is host `pid`; None when it is not ours to read."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    v1: dict[str, Path] = {}
    unified: str | None = None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if container_id not in path:
            continue
        if controllers == "":
            unified = path
        for controller in controllers.split(","):
            if controller in V1_CONTROLLERS:
                v1[controller] = root / controllers / path.lstrip("/")
    if "memory" in v1 and (v1["memory"] / "memory.usage_in_bytes").exists():
        group = V1Cgroup(root, Path(v1["memory"].relative_to(root / "memory")))
        group.dirs.update(v1)  # each controller where the container really is
        return group
    if unified is not None:
        for base in (root, root / "unified"):
            if (base / unified.lstrip("/") / "memory.current").exists():
                return V2Cgroup(base, Path(unified.lstrip("/")))
    return None


class CgroupWatch:
    """Which limit one container hit, seen while it lives: a listener thread blocks on the
    kernel's notifications (OOM eventfd, `pids.events` inotify, kernel log), and `poll` reads
    the counters. `group` None: the cgroup was not found (the container ended at once), so
    only the kernel log, opened before the start, can tell."""

    def __init__(
        self, group: V1Cgroup | V2Cgroup | None, container_id: str, kmsg: int | None = None
    ) -> None:
        self._wake = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)  # first: it may fail
        self.group = group
        self.container_id = container_id
        self.oom = False
        self.pids_limit = False
        self._kmsg = kmsg
        self._memory: Path | None = None
        self._pids_events: Path | None = None
        self._oom_fd: int | None = None
        self._pids_fd: int | None = None
        if isinstance(group, V1Cgroup):
            self._memory = group.dirs["memory"]
            self._pids_events = group.dirs["pids"] / "pids.events"
            self._oom_fd = _oom_eventfd(self._memory)
        elif group is not None:
            self._memory = group.dir
            self._pids_events = group.dir / "pids.events"
        if self._pids_events is not None:
            self._pids_fd = _inotify(self._pids_events)
        self._lock = threading.Lock()
        self._closing = False
        self._closed = False
        threading.Thread(target=self._listen, name="paddock-cgroup-watch", daemon=True).start()
        self.poll()  # a hit before the listening started

    @property
    def notified(self) -> bool:
        """Whether OOMs are known from kernel notifications, not only from polling."""
        return self._oom_fd is not None or self._kmsg is not None

    def _fds(self) -> list[int]:
        fds = (self._oom_fd, self._pids_fd, self._kmsg, self._wake)
        return [fd for fd in fds if fd is not None]

    def _listen(self) -> None:
        poller = select.poll()
        for fd in self._fds():
            poller.register(fd, select.POLLIN)
        try:
            while not self._closing:
                for fd, _ in poller.poll():
                    if fd == self._oom_fd:
                        self._on_oom_signal(poller)
                    elif fd == self._pids_fd:
                        os.read(fd, 4096)  # the events themselves say nothing more
                        self._read_pids_events()
                    elif fd == self._kmsg:
                        self._read_kernel_log()
        except OSError:
            pass
        finally:
            with self._lock:
                self._closed = True
                for fd in self._fds():
                    with contextlib.suppress(OSError):
                        os.close(fd)

    def _on_oom_signal(self, poller: select.poll) -> None:
        """A signal while the cgroup exists is an OOM (the kernel notifies before it kills);
        one after its removal is the removal itself; two at once, an OOM then the removal."""
        assert self._oom_fd is not None and self._memory is not None
        count = os.eventfd_read(self._oom_fd)
        present = self._memory.is_dir()
        if present or count > 1:
            self.oom = True
        if not present:
            poller.unregister(self._oom_fd)

    def _read_pids_events(self) -> None:
        if self._pids_events is not None and _keyed(self._pids_events).get("max", 0) > 0:
            self.pids_limit = True

    def _read_kernel_log(self) -> None:
        """The kernel logs each OOM kill ("oom-kill:...,oom_memcg=<path>,...") and, once per
        cgroup, a pids limit hit ("cgroup: fork rejected by pids controller in <path>"); the
        container's id is in the path. On cgroup v1 the latter is the only announcement."""
        assert self._kmsg is not None
        ours = self.container_id.encode()
        while True:
            try:
                record = os.read(self._kmsg, 8192)
            except BlockingIOError:
                return
            except BrokenPipeError:
                continue  # records were overwritten meanwhile: go on with the next
            if not record:
                return
            if ours not in record:
                continue
            if b"fork rejected by pids controller" in record:
                self.pids_limit = True
            elif b"oom-kill:" in record and b"oom_memcg=" in record:
                self.oom = True

    def poll(self) -> Sample | None:
        """Read the counters now (None once the cgroup is gone) and note any limit hit."""
        if self.group is None:
            return None
        if self.group.limit_hit() is LimitHit.oom_killed:
            self.oom = True
        self._read_pids_events()
        return self.group.sample()

    def finish(self) -> None:
        """After the container exited: a last look, then stop the listener (it closes the
        descriptors: none is closed while it may still be polled)."""
        self.poll()
        with self._lock:
            if self._kmsg is not None and not self._closed:
                self._read_kernel_log()  # records of the last moments, not yet seen
            self._closing = True
            if not self._closed:
                os.eventfd_write(self._wake, 1)


def kernel_log() -> int | None:
    """/dev/kmsg from its end (new records only), when readable here (root)."""
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        os.lseek(fd, 0, os.SEEK_END)
    except OSError:
        os.close(fd)
        return None
    return fd


def _oom_eventfd(memory: Path) -> int | None:
    """An eventfd the kernel signals on an OOM in cgroup v1 `memory` (and on its removal)."""
    efd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
    try:
        control = os.open(memory / "memory.oom_control", os.O_RDONLY | os.O_CLOEXEC)
        try:
            (memory / "cgroup.event_control").write_text(f"{efd} {control}")
        finally:
            os.close(control)
    except OSError:
        os.close(efd)
        return None
    return efd


_IN_MODIFY = 0x2
_libc: ctypes.CDLL | None = None


def _inotify(path: Path) -> int | None:
    """An inotify descriptor watching `path` for changes (cgroup event files notify them)."""
    global _libc
    try:
        _libc = _libc or ctypes.CDLL(None, use_errno=True)
        fd = int(_libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK))
    except (OSError, AttributeError):
        return None
    if fd < 0:
        return None
    if _libc.inotify_add_watch(fd, str(path).encode(), _IN_MODIFY) < 0:
        os.close(fd)
        return None
    return fd


def sample_from_stats(stats: dict[str, Any]) -> Sample | None:
    """A Sample from the engine's one-shot stats (when the cgroup cannot be read here)."""
    memory = stats.get("memory_stats") or {}
    cpu = (stats.get("cpu_stats") or {}).get("cpu_usage") or {}
    pids = stats.get("pids_stats") or {}
    if not memory and not cpu:
        return None
    usage = int(memory.get("usage") or 0)
    return Sample(
        cpu_ns=int(cpu.get("total_usage") or 0),
        memory_bytes=usage,
        peak_bytes=int(memory.get("max_usage") or usage),
        pids=int(pids.get("current") or 0),
    )
