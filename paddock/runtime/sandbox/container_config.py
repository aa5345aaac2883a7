"""How a launch becomes a container: the engine's create arguments and host config.

Mounts (tmpfs for the private dirs, the sandbox's paths bound, hidden ones covered), user,
environment, limits, network and the labels that let a later server find its containers.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paddock.domain.sandbox import Network
from paddock.runtime.launcher import LaunchError, LaunchSpec
from paddock.runtime.proctree import TAG_VARIABLE
from paddock.runtime.sandbox.sandbox_identity import SandboxUser, sandbox_env, sandbox_home

LABEL_PROCESS = "paddock.process"
LABEL_SERVER = "paddock.server"
LABEL_HOST = "paddock.host"
STANDARD_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/run", "/root", "/home")
MIB = 1024 * 1024
# Network "private": the engine's own network namespace with outbound access and no way to the
# host's loopback. Podman: user-mode networking with its alias of the host's 127.0.0.1 (10.0.2.2)
# refused; Docker: its default bridge (the host's loopback is not routed to from there).
PODMAN_PRIVATE = "slirp4netns:allow_host_loopback=false"
DOCKER_PRIVATE = "bridge"


@dataclass
class ContainerConfig:
    image: str
    user: SandboxUser | None
    tmp_mb: int
    server: str  # this server's name (pid and start time), as a label
    host: str
    private_mode: str = PODMAN_PRIVATE  # the engine's network mode for network "private"
    _empty: Path | None = field(default=None, init=False)

    def image_for(self, spec: LaunchSpec) -> str:
        return (spec.sandbox.image if spec.sandbox else None) or self.image

    def run_as(self) -> str:
        if os.geteuid() == 0:
            assert self.user is not None
            return f"{self.user.uid}:{self.user.gid}"
        return f"{os.getuid()}:{os.getgid()}"

    def environment(self, spec: LaunchSpec) -> dict[str, str]:
        env = sandbox_env(spec, sandbox_home(spec))
        # The host's PATH may name none of the image's directories: keep the standard ones.
        path = [p for p in env.get("PATH", "").split(":") if p]
        env["PATH"] = ":".join(path + [p for p in STANDARD_PATH if p not in path])
        env[TAG_VARIABLE] = spec.tag
        return env

    def mounts(self, spec: LaunchSpec) -> list[Any]:
        """Every mount, parents before children (engines sort by depth too)."""
        from docker.types import Mount  # type: ignore[import-untyped]

        sandbox = spec.sandbox
        assert sandbox is not None
        entries: list[tuple[int, int, Any]] = []

        def add(path: Path, order: int, mount: Any) -> None:
            entries.append((len(path.parts), order, mount))

        for private in PRIVATE_DIRS:
            mode = 0o1777 if private.endswith("tmp") else 0o755
            size = self.tmp_mb * MIB
            tmpfs = Mount(private, None, type="tmpfs", tmpfs_size=size, tmpfs_mode=mode)
            add(Path(private), 0, tmpfs)
        writable = {Path(p) for p in sandbox.writable}
        for path in sandbox.writable:
            if not path.exists():
                raise LaunchError(
                    f"the sandbox's writable path {path} does not exist", code="cwd_missing"
                )
            add(path, 3, Mount(str(path), str(path), type="bind", read_only=False))
        mounted = list(writable)
        for path in sandbox.readable:
            if path in writable or not path.exists():
                continue
            add(path, 1, Mount(str(path), str(path), type="bind", read_only=True))
            mounted.append(path)
        # A hidden path inside a mounted one is covered by an empty directory (or /dev/null),
        # bound read-only: not a tmpfs, which Podman fills with what it covers ("tmpcopyup").
        for path in sandbox.hidden:
            inside = any(path != m and path.is_relative_to(m) for m in mounted)
            if not inside or path in writable or not path.exists():
                continue
            cover = str(self.empty_dir()) if path.is_dir() else os.devnull
            add(path, 2, Mount(str(path), cover, type="bind", read_only=True))
        return [mount for _, _, mount in sorted(entries, key=lambda e: (e[0], e[1]))]

    def empty_dir(self) -> Path:
        """An empty directory of this server's, to cover hidden paths with."""
        if self._empty is None or not _is_empty_and_ours(self._empty):
            path = Path(tempfile.gettempdir()) / f"paddock-empty-{os.geteuid()}"
            with contextlib.suppress(FileExistsError):
                path.mkdir(mode=0o755)
            if not _is_empty_and_ours(path):
                path = Path(tempfile.mkdtemp(prefix="paddock-empty-"))
                path.chmod(0o755)
            self._empty = path
        return self._empty

    def create_args(self, spec: LaunchSpec) -> dict[str, Any]:
        """The engine's container configuration for `spec` (without the host config)."""
        sandbox = spec.sandbox
        assert sandbox is not None
        return {
            "image": self.image_for(spec),
            "entrypoint": list(spec.argv),  # exactly the command, whatever the image says
            "working_dir": str(spec.cwd),
            "user": self.run_as(),
            "environment": self.environment(spec),
            "hostname": "sandbox",
            "stdin_open": spec.stdin is not None,
            "labels": {
                LABEL_PROCESS: spec.tag,
                LABEL_SERVER: self.server,
                LABEL_HOST: self.host,
            },
            "name": f"paddock-{spec.tag}",
        }

    def network_mode(self, network: Network) -> str:
        if network is Network.private:
            return self.private_mode
        return "none" if network is Network.none else "host"

    def host_config(self, api: Any, spec: LaunchSpec) -> Any:
        sandbox = spec.sandbox
        assert sandbox is not None
        limits = sandbox.limits
        options: dict[str, Any] = {
            "mounts": self.mounts(spec),
            "read_only": True,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "init": True,
            "network_mode": self.network_mode(sandbox.network),
        }
        if limits.memory_mb is not None:
            options["mem_limit"] = limits.memory_mb * MIB
            options["memswap_limit"] = (limits.memory_mb + (limits.swap_mb or 0)) * MIB
        if limits.cpus is not None:
            options["nano_cpus"] = int(limits.cpus * 1_000_000_000)
        if limits.pids is not None:
            options["pids_limit"] = limits.pids
        return api.create_host_config(**options)


def _is_empty_and_ours(path: Path) -> bool:
    try:
        info = path.lstat()
        return (
            stat.S_ISDIR(info.st_mode)
            and info.st_uid == os.geteuid()
            and not info.st_mode & 0o022
            and not any(path.iterdir())
        )
    except OSError:
        return False
