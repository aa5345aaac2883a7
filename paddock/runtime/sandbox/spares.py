"""Spare shells: a sandbox's cgroup joined before a launch asks for one.

Moving a process into a cgroup takes the kernel's threadgroup lock for writing, which first
waits for an RCU grace period: 5-20 ms on the machines measured, on every launch's path. A
spare is a shell started ahead of time that joins a fresh cgroup of its own, says `ready`, then
waits on a pipe for its command. A launch takes a ready spare, applies the sandbox's limits to
its group and sends it the command (`cd`, then `exec env -i ... argv`), so the grace period is
waited for while nobody waits. One spare is kept ready, made again once a launch's command has
started; a launch that finds none joins its group on the way as before
(`cgroups.attach_argv`).

A pool may give each spare a descriptor for its command (`handed`: bwrap's seccomp program on a
pipe of its own): the spare inherits it and keeps it open through the `exec`, so a launch from a
spare passes nothing on its path. Likewise the write end of an `ExecSignal` of its own
(`signals`), which the command's helper uses to say when the command really started.

A spare whose server dies reads end-of-file on its pipe and exits; its group is reaped with the
others at the next start-up. The shell is bash: the command pipe's descriptor must be closed
before the exec, and dash can only name descriptors 0-9.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shlex
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

from paddock.runtime import proctree
from paddock.runtime.launcher import ExitWatch, LaunchError, LaunchSpec, PlainLauncher, PlainProcess
from paddock.runtime.proctree import TAG_VARIABLE
from paddock.runtime.sandbox.cgroups import (
    Cgroup,
    CgroupLimits,
    Hierarchy,
    remove_soon,
    remove_when_free,
)
from paddock.runtime.sandbox.exec_signal import ExecSignal

log = logging.getLogger(__name__)

READY = b"ready\n"
SETTLE_SECONDS = 10.0  # a spare starts in milliseconds; a machine under load, longer


class Spare:
    """One shell waiting in its own cgroup for the command it will become."""

    def __init__(
        self,
        group: Cgroup,
        proc: asyncio.subprocess.Process,
        protocol: ExitWatch,
        control: int,
        child_fd: int,
        handed_fd: int | None = None,
        signal: tuple[ExecSignal, int] | None = None,
    ) -> None:
        self.group = group
        self._proc = proc
        self._protocol = protocol
        self._control = control  # the write end of the command pipe
        self._child_fd = child_fd  # its read end's number in the spare
        self.handed_fd = handed_fd  # the pool's descriptor for the command, its number here
        # The server's end of the spare's exec signal, and its write end's number in the spare:
        # whoever starts the spare takes the signal over (`take_signal`).
        self.signal: ExecSignal | None = signal[0] if signal is not None else None
        self.signal_fd: int | None = signal[1] if signal is not None else None
        self.pid = proc.pid

    def alive(self) -> bool:
        return self._proc.returncode is None and proctree.is_alive(self.pid, None)

    def start(self, spec: LaunchSpec, limits: CgroupLimits, env_program: str) -> PlainProcess:
        """Become `spec`'s process, within `limits`. OSError: the spare cannot (it is gone, or
        the limits do not apply); the caller launches another way."""
        self.group.apply(limits)
        self.group.forget_usage()
        env = {**spec.env, TAG_VARIABLE: spec.tag}
        _write_all(self._control, launch_script(spec, env, env_program, self._child_fd))
        os.close(self._control)
        self._control = -1
        process = PlainProcess(self._proc, self._protocol, spec.tag)
        # No input: end-of-file at once, as from /dev/null.
        process.feed(spec.stdin if spec.stdin is not None else b"")
        return process

    def take_signal(self) -> ExecSignal | None:
        """The spare's exec signal, now the caller's to close."""
        signal, self.signal = self.signal, None
        return signal

    def discard(self) -> None:
        """End the spare (its group stays: remove it once the kernel lets go)."""
        if self.signal is not None:
            self.signal.close()
            self.signal = None
        if self._control >= 0:
            os.close(self._control)
            self._control = -1
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)


def launch_script(spec: LaunchSpec, env: dict[str, str], env_program: str, child_fd: int) -> bytes:
    """What a spare runs: the launch as shell words, every one quoted."""
    assignments = " ".join(shlex.quote(f"{key}={value}") for key, value in env.items())
    argv = " ".join(shlex.quote(word) for word in spec.argv)
    return (
        f"cd -- {shlex.quote(str(spec.cwd))} || exit 126\n"
        f"exec {shlex.quote(env_program)} -i {assignments} {argv} {child_fd}<&-\n"
    ).encode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class SparePool:
    """Keeps `size` spares ready in `hierarchy`; `take` hands one out and starts another."""

    def __init__(
        self,
        hierarchy: Hierarchy,
        plain: PlainLauncher,
        size: int = 1,
        handed: Callable[[], int] | None = None,
        signals: bool = False,
    ) -> None:
        self.hierarchy = hierarchy
        self.plain = plain
        self.size = size
        # Makes a descriptor each new spare inherits (same number) for its command; the
        # server's copy is closed once the spare has it.
        self.handed = handed
        self.signals = signals  # each spare gets an exec signal of its own
        self.shell = shutil.which("bash")
        self.env_program = shutil.which("env")
        self._ready: list[Spare] = []
        self._filling: asyncio.Task[None] | None = None
        self._numbers = itertools.count(1)
        self._closed = False
        self.problem: str | None = None  # why spares are not made (then launches join directly)
        if self.shell is None or self.env_program is None:
            self.problem = "bash or env is not installed"

    def take(self) -> Spare | None:
        """A ready spare, or None when none is ready. The next one is made when the caller
        says (`fill_later`): making it costs the loop and a core a few milliseconds, which
        must not be on the way of the launch that took this one."""
        spare = None
        while self._ready and spare is None:
            candidate = self._ready.pop(0)
            if candidate.alive():
                spare = candidate
            else:
                self.drop(candidate)
        return spare

    def drop(self, spare: Spare) -> None:
        spare.discard()
        if not self._closed:
            asyncio.get_running_loop().create_task(remove_when_free(spare.group))

    @property
    def ready(self) -> int:
        return len(self._ready)

    def pids(self) -> list[int]:
        """The ready spares' processes."""
        return [spare.pid for spare in self._ready]

    def fill_later(self) -> None:
        """Start making spares up to `size`, in the background."""
        if self._closed or self.problem is not None or self._filling is not None:
            return
        self._filling = asyncio.get_running_loop().create_task(self._fill())

    async def _fill(self) -> None:
        try:
            while len(self._ready) < self.size and not self._closed:
                spare = await self._spawn()
                if self._closed:
                    spare.discard()
                    await remove_when_free(spare.group)
                    return
                self._ready.append(spare)
        except (OSError, LaunchError) as exc:
            self.problem = f"cannot start a spare sandbox shell: {exc}"
            log.warning("%s; sandboxes join their cgroups at launch", self.problem)
        finally:
            self._filling = None

    async def _spawn(self) -> Spare:
        assert self.shell is not None
        group = self.hierarchy.create(f"spare-{next(self._numbers)}", CgroupLimits())
        read_fd, write_fd = os.pipe()
        handed_fd: int | None = None
        signal: tuple[ExecSignal, int] | None = None
        try:
            handed_fd = self.handed() if self.handed is not None else None
            signal = ExecSignal.pipe() if self.signals else None
            joins = " && ".join(f'echo $$ > "{path}"' for path in group.procs_files())
            script = f"{joins} || exit 1; echo ready; . /dev/fd/{read_fd}"
            inherited = [read_fd, *(fd for fd in (handed_fd,) if fd is not None)]
            if signal is not None:
                inherited.append(signal[1])
            proc, protocol = await self.plain.spawn(
                [self.shell, "--norc", "--noprofile", "-c", script, "paddock-spare"],
                Path("/"),
                {},
                stdin_pipe=True,
                pass_fds=tuple(inherited),
            )
        except BaseException:
            os.close(write_fd)
            if signal is not None:
                signal[0].close()
            group.remove()
            raise
        finally:
            os.close(read_fd)
            if handed_fd is not None:
                os.close(handed_fd)
            if signal is not None:
                os.close(signal[1])
        spare = Spare(group, proc, protocol, write_fd, read_fd, handed_fd, signal)
        assert proc.stdout is not None
        try:
            said = await proc.stdout.readline()
        except BaseException:
            # Cancelled (the loop shuts down) before it said `ready`: a shell left waiting on
            # its pipe would outlive the loop, with a thread of asyncio's waiting for it.
            spare.discard()
            group.remove()  # not yet free: then it is reaped at the next start-up
            raise
        if said != READY:
            spare.discard()
            await remove_when_free(group)
            raise LaunchError(f"the spare shell did not start (it said {said[:200]!r})")
        return spare

    async def settle(self, timeout: float = SETTLE_SECONDS) -> None:
        """Make no more spares, and let the one being made finish (it is then ended with
        the rest by `close`): on the loop, before it ends. A spawn cancelled half-way by the
        loop's end would hang it (asyncio waits for a child whose pipes never connected)."""
        self._closed = True
        filling = self._filling
        if filling is not None:
            await asyncio.wait([filling], timeout=timeout)

    def close(self) -> None:
        """End the ready spares and remove their groups (blocking; at shutdown)."""
        self._closed = True
        spares, self._ready = self._ready, []
        for spare in spares:
            spare.discard()
        for spare in spares:
            remove_soon(spare.group)
