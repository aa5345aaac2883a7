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
`spares`) → (`nsenter --net` into a private network →) `bwrap` → (`setpriv` →) the command;
each execs the next, so the supervised pid is bwrap's. `--die-with-parent` and the pid
namespace take the whole tree down when the supervisor dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from paddock.domain.errors import PaddockError
from paddock.domain.sandbox import LimitHit, Network
from paddock.runtime import proctree, safefs
from paddock.runtime.launcher import (
    LaunchError,
    LaunchSpec,
    PlainLauncher,
    PlainProcess,
    SandboxSpec,
)
from paddock.runtime.sandbox import seccomp
from paddock.runtime.sandbox.bwrap_args import MIB, bwrap_args, setpriv_args
from paddock.runtime.sandbox.cgroups import (
    Cgroup,
    CgroupLimits,
    Hierarchy,
    Sample,
    attach_argv,
    remove_when_free,
)
from paddock.runtime.sandbox.private_network import (
    NetworkError,
    PrivateNetwork,
    slirp_problem,
    write_resolv_conf,
)
from paddock.runtime.sandbox.sandbox_identity import SandboxUser, sandbox_env, sandbox_home
from paddock.runtime.sandbox.spares import SparePool

log = logging.getLogger(__name__)


class SandboxedProcess:
    """A bwrap sandbox as the supervisor sees it: the plain process, plus its cgroup."""

    def __init__(
        self, inner: PlainProcess, group: Cgroup | None, network: PrivateNetwork | None = None
    ) -> None:
        self._inner = inner
        self._group = group
        self._network = network  # network "private": ended with the sandbox
        self._network_end: asyncio.Task[None] | None = None
        self.pid = inner.pid
        self.start_time = inner.start_time
        self.stdout = inner.stdout
        self.stderr = inner.stderr
        self._removal: asyncio.Task[None] | None = None

    async def wait(self) -> int:
        code = await self._inner.wait()
        # bwrap's exit ended its pid namespace: nothing is left to use the network. slirp's own
        # exit takes the kernel 15-30 ms (its TAP device goes): not on the way of the exit code.
        self._start_network_end()
        return code

    async def stop(self, grace: float) -> None:
        await self._inner.stop(grace)
        self._end_group()
        await self._end_network()

    async def reap_leftovers(self, grace: float) -> None:
        await self._inner.reap_leftovers(grace)
        self._end_group()
        await self._end_network()

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
        self.spares: SparePool | None = None
        if spares and hierarchy is not None and hierarchy.available:
            handed = self.seccomp.pipe if self.seccomp is not None else None
            self.spares = SparePool(hierarchy, self.plain, handed=handed)
        self.bwrap = shutil.which("bwrap")
        self.setpriv = shutil.which("setpriv")
        self.nsenter = shutil.which("nsenter")
        self.slirp = shutil.which("slirp4netns")
        self._net_dir: Path | None = None  # holds the resolv.conf of private networks

    def problem(self) -> str | None:
        """Why this machine cannot run bwrap sandboxes; None when it can."""
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

    def hand_over(self, path: Path) -> None:
        """Make `path` (a tree) the sandbox user's, so a sandbox can change what the server
        wrote there (worktree checkouts, a rewind, the agent's config). Only as root."""
        user = self.user
        if user is None or os.geteuid() != 0:
            return
        # From directory fds (safefs.walk), each entry by name in its own directory: a
        # directory swapped for a link meanwhile cannot lead a chown (as root) to a host file.
        fd = safefs.open_root(path)
        try:
            if os.fstat(fd).st_uid != user.uid:
                os.fchown(fd, user.uid, user.gid)
        finally:
            os.close(fd)
        for entry in safefs.walk(path):
            if entry.info.st_uid != user.uid:
                with contextlib.suppress(FileNotFoundError):
                    os.chown(
                        entry.name, user.uid, user.gid, dir_fd=entry.dir_fd, follow_symlinks=False
                    )

    def clear_links(self, path: Path) -> int:
        """Remove every symlink under `path`, a sandbox's own dir, before the server writes
        there: no link a sandbox left can lead the server's writes (as root) to a host file.
        Fifos and sockets go too: the server reading one would wait forever. Run while no
        sandbox can write there. Returns how many were removed."""
        removed = 0
        for entry in safefs.walk(path):
            if not (entry.is_dir or entry.is_file):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.name, dir_fd=entry.dir_fd)
                    removed += 1
        return removed

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
            raise LaunchError(f"command not found: {program}", program=program)
        network = await self._private_network(spec)
        try:
            return await self._launch(spec, network)
        except BaseException:
            if network is not None:
                await network.close()
            raise

    async def _private_network(self, spec: LaunchSpec) -> PrivateNetwork | None:
        """Network "private": the sandbox's network, up (and its hook called) before the
        launch; None for the other modes."""
        sandbox = spec.sandbox
        assert sandbox is not None
        if sandbox.network is not Network.private:
            return None
        problem = self.network_problem(sandbox.network)
        if problem is not None:
            raise LaunchError(
                f"network private cannot run here: {problem}", code="sandbox_unavailable"
            )
        try:
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
        argv = [self.bwrap, *options, "--", *self._drop(), *spec.argv]
        if network is not None:
            assert self.nsenter is not None
            argv = [self.nsenter, f"--net={network.path}", *argv]
        inner_spec = LaunchSpec(
            argv=argv,
            cwd=spec.cwd,
            env=sandbox_env(spec, sandbox_home(spec)),
            stdin=spec.stdin,
            tag=spec.tag,
        )
        if self.hierarchy is None or not self.hierarchy.available:
            return SandboxedProcess(await self._launch_filtered(inner_spec, None), None, network)
        limits = cgroup_limits(sandbox)
        spared = self._start_in_spare(inner_spec, limits, network)
        if spared is not None:
            return spared
        group = self._cgroup(spec.tag, limits)
        try:
            inner = await self._launch_filtered(inner_spec, group)
        except LaunchError:
            group.remove()
            raise
        return SandboxedProcess(inner, group, network)

    def _resolv_conf(self) -> Path:
        """The resolv.conf of private networks (slirp's resolver), bound over the host's."""
        if self._net_dir is None:
            self._net_dir = Path(tempfile.mkdtemp(prefix="paddock-net-"))
            self._net_dir.chmod(0o755)
        return write_resolv_conf(self._net_dir)

    def _start_in_spare(
        self, spec: LaunchSpec, limits: CgroupLimits, network: PrivateNetwork | None
    ) -> SandboxedProcess | None:
        """`spec` started by a ready spare (its cgroup joined already); None when there is
        none, or it failed (then the launch joins a group of its own on the way)."""
        pool = self.spares
        spare = pool.take() if pool is not None else None
        if pool is None or spare is None:
            return None
        if not spec.cwd.is_dir():
            pool.drop(spare)
            raise LaunchError(f"working directory {spec.cwd} does not exist", code="cwd_missing")
        assert pool.env_program is not None
        try:
            # The spare holds the seccomp program's pipe already (SparePool's `handed`).
            filtered = replace(spec, argv=self._filtered(spec.argv, spare.handed_fd))
            started = spare.start(filtered, limits, pool.env_program)
            return SandboxedProcess(started, spare.group, network)
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

    async def _launch_filtered(self, spec: LaunchSpec, group: Cgroup | None) -> PlainProcess:
        """`spec` launched (joining `group` on the way) with the seccomp program on a pipe of
        its own: bwrap reads it to the end and closes it; the server's copy is closed here."""
        fd = self.seccomp.pipe() if self.seccomp is not None else None
        try:
            argv = self._filtered(spec.argv, fd)
            if group is not None:
                argv = attach_argv(group, argv)
            fds = spec.pass_fds if fd is None else (*spec.pass_fds, fd)
            return await self.plain.launch(replace(spec, argv=argv, pass_fds=fds))
        finally:
            if fd is not None:
                os.close(fd)

    def _cgroup(self, tag: str, limits: CgroupLimits) -> Cgroup:
        assert self.hierarchy is not None
        try:
            return self.hierarchy.create(tag, limits)
        except OSError as exc:
            raise LaunchError(
                f"cannot create the sandbox's cgroup: {exc}", code="sandbox_unavailable"
            ) from exc

    def close(self) -> None:
        """End the spare shells (blocking; at shutdown)."""
        if self.spares is not None:
            self.spares.close()
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
