"""Sandbox "bwrap": bubblewrap namespaces, a cgroup of its own for limits, an unprivileged uid.

The host's root is mounted read-only; /tmp (size-bounded), /run, /home, /root, Paddock's data
dir and the worktrees dir are private or hidden; the sandbox's own paths (the worktree, the
agent's HOME) are bound read-write and a few (the repository's .git, the agent CLIs) read-only.
Own pid, ipc, uts and cgroup namespaces (and net with network "none" or "private": the latter
made before the launch, with slirp4netns up in it, see `private_network`), no new privileges,
no capabilities, a seccomp filter (see `seccomp`), only whitelisted and Paddock-given variables.

Run by a user, bwrap makes its namespaces in a user namespace of its own (and forbids nested
ones). Run by root, the command must not stay root: bwrap (as root, so it can bind paths under
0700 directories such as /root or pytest's temp dirs) sets up the namespaces and mounts, then
`setpriv` inside drops to a dedicated unprivileged user, clears every capability and sets no new
privileges; that user's files are its only host identity (it cannot read /etc/shadow).

The chain is a shell that joins the cgroup (a spare one joined it ahead of time, see
`spares`) → (`nsenter --net` into a private network →) `bwrap` → (`setpriv` →) a few words of
perl that tell the server the command is starting (see `exec_signal`) → the command; each
execs the next, so the supervised pid is bwrap's. `--die-with-parent` and the pid namespace
take the whole tree down when the supervisor dies.

This module starts sandboxes; `bwrap_args` says what bubblewrap is told, `bwrap_process` is a
started sandbox as the supervisor sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from paddock.domain.errors import PaddockError
from paddock.domain.sandbox import Network
from paddock.runtime.launcher import (
    LaunchError,
    LaunchSpec,
    PlainLauncher,
    PlainProcess,
    SandboxSpec,
)
from paddock.runtime.sandbox import seccomp
from paddock.runtime.sandbox.bwrap_args import MIB, bwrap_args, setpriv_args
from paddock.runtime.sandbox.bwrap_process import SandboxedProcess
from paddock.runtime.sandbox.cgroups import Cgroup, CgroupLimits, Hierarchy, attach_argv
from paddock.runtime.sandbox.exec_signal import ExecSignal, find_perl, helper_argv, quiet_env
from paddock.runtime.sandbox.private_network import (
    NetworkError,
    NetworksAhead,
    PrivateNetwork,
    slirp_problem,
    write_resolv_conf,
)
from paddock.runtime.sandbox.sandbox_identity import SandboxUser, sandbox_env, sandbox_home
from paddock.runtime.sandbox.spares import SparePool

log = logging.getLogger(__name__)

# After a launch's command started: time for the server to record and announce it before the
# next spare is made (see `_refill_after`).
REFILL_DELAY = 0.05


class BwrapLauncher:
    name = "bwrap"

    def __init__(
        self,
        *,
        user: SandboxUser | None,
        hierarchy: Hierarchy | None,
        tmp_mb: int = 512,
        plain: PlainLauncher | None = None,
        spares: bool = True,
    ) -> None:
        self.user = user
        self.hierarchy = hierarchy
        self.tmp_mb = tmp_mb
        self.plain = plain or PlainLauncher()
        # Built once per process; None on a machine without a system call table (doctor says).
        self.seccomp = seccomp.native_filter()
        # Says when the command really started (None: no perl; launches say so at once).
        self.perl = find_perl()
        self.spares: SparePool | None = None
        if spares and hierarchy is not None and hierarchy.available:
            handed = self.seccomp.pipe if self.seccomp is not None else None
            signals = self.perl is not None
            self.spares = SparePool(hierarchy, self.plain, handed=handed, signals=signals)
        self.bwrap = shutil.which("bwrap")
        self.setpriv = shutil.which("setpriv")
        self.nsenter = shutil.which("nsenter")
        self.slirp = shutil.which("slirp4netns")
        self._net_dir: Path | None = None  # holds the resolv.conf of private networks
        self._refills: set[asyncio.Task[None]] = set()
        self.ahead = NetworksAhead()  # networks made before their launch (`prepare`)

    def problem(self) -> str | None:
        """Why this machine cannot run bwrap sandboxes; None when it can."""
        if not sys.platform.startswith("linux"):
            return "bubblewrap needs Linux"
        if self.bwrap is None:
            return "bubblewrap (bwrap) is not installed"
        if os.geteuid() == 0:
            if self.setpriv is None:
                return "setpriv is not installed (util-linux)"
            if self.user is None:
                return "the sandbox user does not exist (scripts/install creates it)"
        argv = [self.bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--", *self._drop(), "true"]
        fd = self.seccomp.pipe() if self.seccomp is not None else None  # the filter loads too
        try:
            probe = subprocess.run(
                self._filtered(argv, fd),
                capture_output=True,
                text=True,
                check=False,
                pass_fds=() if fd is None else (fd,),
            )
        finally:
            if fd is not None:
                os.close(fd)
        if probe.returncode != 0:
            return f"bwrap cannot create a sandbox here: {probe.stderr.strip()[:300]}"
        return None

    def network_problem(self, network: Network) -> str | None:
        """Why sandboxes cannot have `network` here; None when they can."""
        if network is not Network.private:
            return None
        if self.nsenter is None:
            return "nsenter is not installed (util-linux)"
        return slirp_problem(self.slirp)

    def limits_enforced(self) -> bool:
        """Whether memory, CPU and pids limits hold: only in a cgroup hierarchy of ours."""
        return self.hierarchy is not None and self.hierarchy.available

    def details(self) -> list[str]:
        """For `paddock doctor`: the cgroup version, and the seccomp filter (or why none)."""
        version = self.hierarchy.version if self.hierarchy is not None else None
        return [*([f"cgroup v{version}"] if version else []), seccomp.describe(self.seccomp)]

    def reap_stale(self) -> list[str]:
        """At start-up (blocking): the cgroups left by servers that are gone."""
        return self.hierarchy.reap_stale() if self.hierarchy is not None else []

    def _drop(self) -> list[str]:
        """What runs inside the sandbox before the command: as root, setpriv to the user."""
        if os.geteuid() == 0 and self.user is not None and self.setpriv is not None:
            return [self.setpriv, *setpriv_args(self.user), "--"]
        return []

    async def launch(self, spec: LaunchSpec) -> SandboxedProcess:
        sandbox = spec.sandbox
        assert sandbox is not None
        if self.bwrap is None:
            raise LaunchError("bubblewrap (bwrap) is not installed", code="sandbox_unavailable")
        if os.geteuid() == 0 and (self.user is None or self.setpriv is None):
            raise LaunchError(
                "the bwrap sandbox needs its unprivileged user when Paddock runs as root: "
                "run scripts/install, or choose sandbox provider none",
                code="sandbox_unavailable",
            )
        program = spec.argv[0] if spec.argv else ""
        if not shutil.which(program, path=spec.env.get("PATH")):
            self.ahead.let_go(spec.tag)
            raise LaunchError(f"command not found: {program}", program=program)
        network = await self._private_network(spec)
        try:
            launched = await self._launch(spec, network)
        except BaseException:
            if network is not None:
                await network.close()
            self._refill_after(None)
            raise
        self._refill_after(launched)
        return launched

    def _refill_after(self, launched: SandboxedProcess | None) -> None:
        """Make the next spare once `launched`'s command has started (or never will), and
        the server has said so: making one takes a core and the loop for a few milliseconds,
        which must not delay this launch. A launch meanwhile joins its group on the way."""
        pool = self.spares
        if pool is None:
            return

        async def refill() -> None:
            if launched is not None:
                await launched.started()
            await asyncio.sleep(REFILL_DELAY)
            pool.fill_later()

        task = asyncio.get_running_loop().create_task(refill())
        self._refills.add(task)
        task.add_done_callback(self._refills.discard)

    def prepare(self, tag: str, network: Network) -> None:
        """Network "private": make `tag`'s network now (a namespace and its slirp4netns,
        some milliseconds), while the caller does other work (e.g. git makes the worktree);
        its launch claims it. Unclaimed for a while, it is let go (`NetworksAhead`)."""
        if network is Network.private and self.network_problem(network) is None:
            self.ahead.make(tag, self.slirp)

    async def _private_network(self, spec: LaunchSpec) -> PrivateNetwork | None:
        """Network "private": the sandbox's network, up (and its hook called) before the
        launch (made now, or claimed from `prepare`); None for the other modes."""
        sandbox = spec.sandbox
        assert sandbox is not None
        prepared = self.ahead.claim(spec.tag)
        if sandbox.network is not Network.private:
            if prepared is not None:
                prepared.cancel()
            return None
        problem = self.network_problem(sandbox.network)
        if problem is not None:
            raise LaunchError(
                f"network private cannot run here: {problem}", code="sandbox_unavailable"
            )
        try:
            network = None
            if prepared is not None:
                # One made ahead that failed is made again: its error may have passed.
                with contextlib.suppress(NetworkError):
                    network = await prepared
            if network is None:
                network = await PrivateNetwork.open(spec.tag, self.slirp)
        except NetworkError as exc:
            raise LaunchError(str(exc), code="sandbox_unavailable") from exc
        if sandbox.on_network is not None:
            try:
                await sandbox.on_network(network)
            except BaseException as exc:
                await network.close()
                if isinstance(exc, Exception) and not isinstance(exc, PaddockError):
                    raise LaunchError(
                        f"the sandbox's network could not be prepared: {exc}",
                        code="sandbox_unavailable",
                    ) from exc
                raise
        return network

    async def _launch(self, spec: LaunchSpec, network: PrivateNetwork | None) -> SandboxedProcess:
        sandbox = spec.sandbox
        assert sandbox is not None and self.bwrap is not None
        options = bwrap_args(
            sandbox,
            spec.cwd,
            self.tmp_mb,
            as_root=os.geteuid() == 0,
            resolv_conf=self._resolv_conf() if network is not None else None,
        )
        env = sandbox_env(spec, sandbox_home(spec))
        forget_quiet = False
        if self.perl is not None:
            env, forget_quiet = quiet_env(env)

        def chain(signal_fd: int | None) -> list[str]:
            """The launch's command line, the command told to signal on `signal_fd`."""
            assert self.bwrap is not None
            command = spec.argv
            if signal_fd is not None:
                assert self.perl is not None
                command = helper_argv(self.perl, signal_fd, spec.argv, forget_quiet=forget_quiet)
            argv = [self.bwrap, *options, "--", *self._drop(), *command]
            if network is not None:
                assert self.nsenter is not None
                argv = [self.nsenter, f"--net={network.path}", *argv]
            return argv

        inner_spec = LaunchSpec(argv=[], cwd=spec.cwd, env=env, stdin=spec.stdin, tag=spec.tag)
        if self.hierarchy is None or not self.hierarchy.available:
            inner, signal = await self._launch_filtered(inner_spec, chain, None)
            return SandboxedProcess(inner, None, network, signal)
        limits = cgroup_limits(sandbox)
        spared = self._start_in_spare(inner_spec, chain, limits, network)
        if spared is not None:
            return spared
        group = self._cgroup(spec.tag, limits)
        try:
            inner, signal = await self._launch_filtered(inner_spec, chain, group)
        except LaunchError:
            group.remove()
            raise
        return SandboxedProcess(inner, group, network, signal)

    def _resolv_conf(self) -> Path:
        """The resolv.conf of private networks (slirp's resolver), bound over the host's."""
        if self._net_dir is None:
            self._net_dir = Path(tempfile.mkdtemp(prefix="paddock-net-"))
            self._net_dir.chmod(0o755)
        return write_resolv_conf(self._net_dir)

    def _start_in_spare(
        self,
        spec: LaunchSpec,
        chain: Callable[[int | None], list[str]],
        limits: CgroupLimits,
        network: PrivateNetwork | None,
    ) -> SandboxedProcess | None:
        """`spec` (its command line from `chain`) started by a ready spare (its cgroup joined
        already); None when there is none, or it failed (then the launch joins a group of its
        own on the way)."""
        pool = self.spares
        spare = pool.take() if pool is not None else None
        if pool is None or spare is None:
            return None
        if not spec.cwd.is_dir():
            pool.drop(spare)
            raise LaunchError(f"working directory {spec.cwd} does not exist", code="cwd_missing")
        assert pool.env_program is not None
        try:
            # The spare holds the seccomp program's pipe already (SparePool's `handed`), and
            # its exec signal's write end.
            argv = self._filtered(chain(spare.signal_fd), spare.handed_fd)
            started = spare.start(replace(spec, argv=argv), limits, pool.env_program)
            return SandboxedProcess(started, spare.group, network, spare.take_signal())
        except OSError as exc:
            log.warning("a spare sandbox shell could not start %s: %s", spec.tag, exc)
            pool.drop(spare)
            return None

    def _filtered(self, argv: list[str], fd: int | None) -> list[str]:
        """`argv` with bwrap told to load the seccomp filter from descriptor `fd` (unchanged
        on a machine without a filter)."""
        if self.seccomp is None:
            return argv
        if fd is None:
            raise OSError("no seccomp program to hand to bwrap")
        assert self.bwrap is not None
        at = argv.index(self.bwrap) + 1
        return [*argv[:at], "--seccomp", str(fd), *argv[at:]]

    async def _launch_filtered(
        self,
        spec: LaunchSpec,
        chain: Callable[[int | None], list[str]],
        group: Cgroup | None,
    ) -> tuple[PlainProcess, ExecSignal | None]:
        """`spec`, its command line from `chain`, launched (joining `group` on the way) with
        the seccomp program on a pipe of its own (bwrap reads it to the end and closes it) and
        an exec signal's write end; the server's copies are closed here."""
        fd = self.seccomp.pipe() if self.seccomp is not None else None
        signal, signal_fd = ExecSignal.pipe() if self.perl is not None else (None, None)
        try:
            argv = self._filtered(chain(signal_fd), fd)
            if group is not None:
                argv = attach_argv(group, argv)
            fds = (*spec.pass_fds, *(f for f in (fd, signal_fd) if f is not None))
            launched = await self.plain.launch(replace(spec, argv=argv, pass_fds=fds))
        except BaseException:
            if signal is not None:
                signal.close()
            raise
        finally:
            for own in (fd, signal_fd):
                if own is not None:
                    os.close(own)
        return launched, signal

    def _cgroup(self, tag: str, limits: CgroupLimits) -> Cgroup:
        assert self.hierarchy is not None
        try:
            return self.hierarchy.create(tag, limits)
        except OSError as exc:
            raise LaunchError(
                f"cannot create the sandbox's cgroup: {exc}", code="sandbox_unavailable"
            ) from exc

    async def settle(self) -> None:
        """No more spares: the refills waiting are dropped, the spare being made finishes."""
        for refill in list(self._refills):
            refill.cancel()
        if self._refills:
            await asyncio.wait(list(self._refills))
        if self.spares is not None:
            await self.spares.settle()

    def close(self) -> None:
        """End the spare shells, then remove this server's cgroup folder (blocking; at
        shutdown)."""
        if self.spares is not None:  # closed: a refill still waiting makes nothing
            self.spares.close()
        if self.hierarchy is not None:
            self.hierarchy.close()
        if self._net_dir is not None:
            shutil.rmtree(self._net_dir, ignore_errors=True)
            self._net_dir = None


def cgroup_limits(sandbox: SandboxSpec) -> CgroupLimits:
    limits = sandbox.limits
    return CgroupLimits(
        memory_bytes=limits.memory_mb * MIB if limits.memory_mb else None,
        swap_bytes=(limits.swap_mb or 0) * MIB,
        cpus=limits.cpus,
        pids=limits.pids,
    )
