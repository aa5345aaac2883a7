"""A bwrap sandbox as the supervisor sees it, once started: the plain process (bwrap's), its
cgroup and its private network, each ended with it. Signals go to the command inside, not to
bwrap (which forwards none)."""

from __future__ import annotations

import asyncio
import contextlib
import os

from paddock.domain.sandbox import LimitHit
from paddock.runtime import proctree
from paddock.runtime.launcher import PlainProcess
from paddock.runtime.sandbox.cgroups import Cgroup, Sample, remove_when_free
from paddock.runtime.sandbox.exec_signal import ExecSignal
from paddock.runtime.sandbox.private_network import PrivateNetwork


class SandboxedProcess:
    """A bwrap sandbox as the supervisor sees it: the plain process, plus its cgroup."""

    def __init__(
        self,
        inner: PlainProcess,
        group: Cgroup | None,
        network: PrivateNetwork | None = None,
        signal: ExecSignal | None = None,
    ) -> None:
        self._inner = inner
        self._group = group
        self._network = network  # network "private": ended with the sandbox
        self._signal = signal  # says when the command itself started (None: at once)
        self._network_end: asyncio.Task[None] | None = None
        self.pid = inner.pid
        self.start_time = inner.start_time
        self.stdout = inner.stdout
        self.stderr = inner.stderr
        self._removal: asyncio.Task[None] | None = None

    async def started(self) -> bool:
        """True once the command itself runs inside the sandbox (exec'd); False when it never
        will (the sandbox could not be made)."""
        return await self._signal.started() if self._signal is not None else True

    async def wait(self) -> int:
        code = await self._inner.wait()
        # bwrap's exit ended its pid namespace: nothing is left to use the network. slirp's own
        # exit takes the kernel 15-30 ms (its TAP device goes): not on the way of the exit code.
        self._start_network_end()
        return code

    async def stop(self, grace: float) -> None:
        await self._inner.stop(grace)
        self._end_signal()
        self._end_group()
        await self._end_network()

    async def reap_leftovers(self, grace: float) -> None:
        await self._inner.reap_leftovers(grace)
        self._end_signal()
        self._end_group()
        await self._end_network()

    def _end_signal(self) -> None:
        """The tree is gone: its verdict was read, or never will be (then it is False)."""
        if self._signal is not None:
            self._signal.close()

    def send(self, sig: int) -> None:
        """To the command and its children, not to bwrap: bwrap forwards no signals, and its
        pid 1 dying would kill the sandbox at once (like Ctrl-C in a terminal)."""
        for pid in proctree.find_tagged(self._inner.tag):
            if proctree.command_name(pid) != "bwrap":
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)

    def inside_pid(self) -> int | None:
        """A process inside the sandbox's namespaces (bwrap itself stays outside), e.g. for a
        network bridge; None once the sandbox is gone."""
        own = _namespace("self", "pid")
        for pid in sorted(proctree.find_tagged(self._inner.tag)):
            if pid != self.pid and _namespace(str(pid), "pid") not in (None, own):
                return pid
        return None

    def limit_hit(self) -> LimitHit | None:
        return self._group.limit_hit() if self._group is not None else None

    def sample(self) -> Sample | None:
        return self._group.sample() if self._group is not None else None

    def _start_network_end(self) -> None:
        if self._network is not None and self._network_end is None:
            self._network_end = asyncio.get_running_loop().create_task(self._network.close())

    async def _end_network(self) -> None:
        """End the network (slirp4netns and the namespace), and wait until it is gone."""
        self._start_network_end()
        if self._network_end is not None:
            await asyncio.shield(self._network_end)

    def _end_group(self) -> None:
        group = self._group
        if group is None or self._removal is not None:
            return
        group.kill()  # what the tree kill could not find (a process that cleared its env)
        self._removal = asyncio.get_running_loop().create_task(remove_when_free(group))


def _namespace(pid: str, kind: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/{kind}").st_ino
    except OSError:
        return None
