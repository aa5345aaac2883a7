"""A running container as the supervisor sees it: the `Launched` protocol over the Docker
Engine API (see `container` for how it is made).

The exit comes from the engine's wait (in a thread of its own: it lasts the container's life),
the output from the attach stream, resource use and limit hits from the container's cgroup
read on the host, or from the engine's stats where that cgroup is out of reach. Stopping is
SIGTERM to the container's init (which forwards it to the command), SIGKILL after the grace,
then removal: the init's exit takes every process of the container down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from typing import Any

from paddock.domain.sandbox import LimitHit
from paddock.runtime import proctree
from paddock.runtime.launcher import LaunchSpec, Stdin, stdin_bytes
from paddock.runtime.sandbox.cgroups import Sample
from paddock.runtime.sandbox.container_cgroup import CgroupWatch, find_cgroup, sample_from_stats
from paddock.runtime.sandbox.container_streams import (
    AttachedOutput,
    close_socket,
    discard_output,
    run_in_thread,
    write_stdin,
)

log = logging.getLogger("paddock.runtime.sandbox.container")

MIB = 1024 * 1024
POLL_SECONDS = 1.0  # how often a running container's cgroup counters are read
WAIT_CHUNK_SECONDS = 600  # one engine wait call; repeated while the container runs


class ContainerProcess:
    """A running container as the supervisor sees it (the `Launched` protocol)."""

    def __init__(
        self,
        api: Any,
        container_id: str,
        spec: LaunchSpec,
        output: AttachedOutput,
        *,
        pid: int | None,
        kmsg: int | None = None,
        stdin: Any = None,
    ) -> None:
        assert spec.sandbox is not None
        self.api = api
        self.id = container_id
        self.tag = spec.tag
        self._limits = spec.sandbox.limits
        self._output = output
        self._stdin = stdin  # an attach socket of its own (see `ContainerLauncher.start`)
        self.stdout: asyncio.StreamReader = output.stdout
        self.stderr: asyncio.StreamReader = output.stderr
        # The host pid of the container's init, when the engine runs on this machine: the
        # cgroup is read through it (and a setns() forwarder could use its namespaces).
        group = find_cgroup(pid, container_id) if pid else None
        self.pid: int | None = pid if group is not None else None
        self.start_time: int | None = proctree.start_time(self.pid) if self.pid else None
        # Limit hits: from the cgroup, and from the kernel log opened before the start.
        self._watch: CgroupWatch | None = None
        if group is not None or kmsg is not None:
            self._watch = CgroupWatch(group, container_id, kmsg)
        self._stats: Sample | None = None
        self._peak = 0
        self._stopping = False
        self._limit_hit: LimitHit | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._feeder: asyncio.Future[Any] | None = None
        self._cleanup: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        self._exit: asyncio.Task[int] = loop.create_task(self._await_exit())
        self._monitor = loop.create_task(self._watch_counters())

    def feed(self, data: Stdin) -> None:
        loop = asyncio.get_running_loop()
        sock = self._stdin
        assert sock is not None, "started without stdin"
        run_in_thread(loop, lambda: discard_output(sock), "paddock-stdin-echo")
        if isinstance(data, bytes):
            self._feeder = run_in_thread(loop, lambda: write_stdin(sock, data), "paddock-stdin")
            return

        async def when_known() -> None:
            known = await stdin_bytes(data)
            await run_in_thread(loop, lambda: write_stdin(sock, known), "paddock-stdin")

        self._feeder = loop.create_task(when_known())

    # --- the exit ------------------------------------------------------------------------------

    async def started(self) -> bool:
        # The engine answered the start: its runtime exec'd the command (as far as it says).
        return True

    async def wait(self) -> int:
        return await asyncio.shield(self._exit)

    async def _await_exit(self) -> int:
        loop = asyncio.get_running_loop()
        code: int = await run_in_thread(loop, self._wait_blocking, "paddock-container-wait")
        try:
            state = (await asyncio.to_thread(self.api.inspect_container, self.id))["State"]
        except Exception:
            state = {}
        self._monitor.cancel()
        if self._watch is not None:
            self._watch.finish()
        self._limit_hit = self._judge(code, state)
        if self._stopping and 128 < code <= 128 + 64:
            code = 128 - code  # killed by our stop(): -N, as for a plain process
        return code

    def _wait_blocking(self) -> int:
        failures = 0
        while True:
            try:
                result = self.api.wait(self.id, timeout=WAIT_CHUNK_SECONDS)
                return int(result.get("StatusCode", -1))
            except Exception as exc:
                status = getattr(exc, "status_code", None)
                if status == 404:
                    return -int(signal.SIGKILL)  # removed under us: it was killed
                if "timed out" in str(exc).lower():
                    continue  # still running
                failures += 1
                if failures > 20:
                    log.warning("lost track of container %s: %s", self.id[:12], exc)
                    return -1
                time.sleep(0.5)

    def _judge(self, code: int, state: dict[str, Any]) -> LimitHit | None:
        watch = self._watch
        if state.get("OOMKilled") or (watch is not None and watch.oom):
            return LimitHit.oom_killed
        if watch is not None and watch.pids_limit:
            return LimitHit.pids_limit
        # No OOM notification to go by (no local cgroup v1): a SIGKILL nobody sent, with the
        # memory seen near its limit, is the OOM killer's.
        limit = self._limits.memory_mb
        if (
            code == 128 + signal.SIGKILL
            and not self._stopping
            and limit is not None
            and (watch is None or not watch.notified)
            and self._peak >= 0.9 * limit * MIB
        ):
            return LimitHit.oom_killed
        return None

    def inside_pid(self) -> int | None:
        """The container's init on this host (its network namespace is the container's), for
        a network bridge; None when the engine runs elsewhere or the container ended."""
        if self.pid is None or not proctree.is_alive(self.pid, self.start_time):
            return None
        return self.pid

    def limit_hit(self) -> LimitHit | None:
        return self._limit_hit

    # --- resource use --------------------------------------------------------------------------

    def sample(self) -> Sample | None:
        if self._exit.done():
            return None
        if self._watch is not None and self._watch.group is not None:
            return self._note(self._watch.poll())
        return self._stats

    def _note(self, sample: Sample | None) -> Sample | None:
        if sample is not None:
            self._peak = max(self._peak, sample.peak_bytes)
        return sample

    async def _watch_counters(self) -> None:
        """While it runs: read the cgroup's counters (a pids limit hit leaves no other trace),
        or, where the cgroup is out of reach, the engine's stats."""
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                if self._watch is not None and self._watch.group is not None:
                    self._note(self._watch.poll())
                    await asyncio.sleep(POLL_SECONDS)
                else:
                    with contextlib.suppress(Exception):
                        stats = await asyncio.to_thread(self._stats_blocking)
                        self._stats = self._note(sample_from_stats(stats))
                    await asyncio.sleep(1.0)

    def _stats_blocking(self) -> dict[str, Any]:
        try:
            return self.api.stats(self.id, stream=False, one_shot=True)  # type: ignore[no-any-return]
        except Exception:
            return self.api.stats(self.id, stream=False)  # type: ignore[no-any-return]

    # --- signals and stopping ------------------------------------------------------------------

    def send(self, sig: int) -> None:
        """To the command: the container's init forwards it."""
        if self._exit.done():
            return
        self._spawn(lambda: self._kill_blocking(sig))

    def _spawn(self, fn: Callable[[], None]) -> None:
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(fn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _kill_blocking(self, sig: int) -> None:
        with contextlib.suppress(Exception):  # not running (any more): nothing to signal
            self.api.kill(self.id, signal=signal.Signals(sig).name)

    async def stop(self, grace: float) -> None:
        """SIGTERM (forwarded to the command by the init), up to `grace` seconds, SIGKILL;
        then the container is removed."""
        if not self._exit.done():
            self._stopping = True
            self.sample()  # a last look at the counters while the cgroup is still there
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await asyncio.to_thread(self._kill_blocking, signal.SIGTERM)
            if not await self._exited_within(grace):
                await asyncio.to_thread(self._kill_blocking, signal.SIGKILL)
                await self._exited_within(30)
        await self._finish(grace)

    async def _exited_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._exit), seconds)
        return self._exit.done()

    async def reap_leftovers(self, grace: float) -> None:
        """The init took every process of the container with it: collect the output's end and
        remove the container."""
        await self._finish(grace)

    async def _finish(self, grace: float) -> None:
        if self._cleanup is None:
            self._cleanup = asyncio.get_running_loop().create_task(self._remove(grace))
        await asyncio.shield(self._cleanup)

    async def _remove(self, grace: float) -> None:
        await self._output.finish(max(grace, 1.0))
        if self._feeder is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._feeder), 1)
            self._feeder.cancel()  # input still to come: nobody is left to read it
        # Exit code and limit hit are read before the container goes.
        await self._exited_within(30)
        try:
            await asyncio.to_thread(self.api.remove_container, self.id, force=True)
        except Exception as exc:
            if getattr(exc, "status_code", None) != 404:
                log.warning("cannot remove container %s: %s", self.id[:12], exc)
        self._output.release()
        if self._stdin is not None:
            close_socket(self._stdin)
        self._monitor.cancel()
