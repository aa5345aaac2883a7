"""Sandbox "container": one container per process, through the Docker Engine API.

Works with Docker and with Podman's Docker-compatible service (`podman system service`), via
the `docker` SDK. Each process gets a container of the project's image (default: Paddock's
locally built base image, see `container_image`) with:

- a read-only root filesystem; size-bounded tmpfs on /tmp, /var/tmp, /run, /root and /home;
  the sandbox's writable paths (the worktree, the agent's HOME) bind-mounted read-write at the
  same paths, its readable paths read-only; hidden paths are not mounted (and covered by an
  empty read-only directory where they lie inside a mounted path);
- all capabilities dropped, no new privileges, an init as pid 1 (it forwards signals, reaps
  orphans, and its exit takes every process of the container down);
- the sandbox user's uid:gid when the server runs as root (the worktree's files end up owned as
  under bwrap), else the server's own;
- memory (+swap), CPU and pids limits, network "private" (Podman: slirp4netns without the
  host's loopback; Docker: its bridge), "none" (loopback only) or "host";
- the whitelisted host variables plus the ones Paddock passes (as bwrap), PADDOCK_PROCESS_ID,
  and labels naming the process, the server (pid and start time) and the host, so a server
  that starts removes the containers of servers that are gone (`reap_stale`).

Output comes from the attach stream (`container_streams`), exit codes from the engine's wait,
resource use and limit hits from the container's cgroup read on the host
(`container_cgroup`), or from the engine's stats where that cgroup is out of reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from paddock.domain.sandbox import Network
from paddock.runtime.launcher import DEFAULT_STREAM_LIMIT, LaunchError, LaunchSpec
from paddock.runtime.sandbox.cgroups import server_alive, server_name
from paddock.runtime.sandbox.container_cgroup import kernel_log
from paddock.runtime.sandbox.container_config import (
    DOCKER_PRIVATE,
    LABEL_HOST,
    LABEL_SERVER,
    PODMAN_PRIVATE,
    PRIVATE_DIRS,
    ContainerConfig,
)
from paddock.runtime.sandbox.container_engine import (
    PodmanService,
    PodmanServiceError,
    answers,
    connect,
    explain,
    sdk_missing,
    socket_url,
)
from paddock.runtime.sandbox.container_image import DEFAULT_IMAGE
from paddock.runtime.sandbox.container_process import ContainerProcess
from paddock.runtime.sandbox.sandbox_identity import SandboxUser

log = logging.getLogger("paddock.runtime.sandbox.container")


class ContainerLauncher:
    name = "container"

    def __init__(
        self,
        *,
        url: str | None = None,
        image: str = DEFAULT_IMAGE,
        user: SandboxUser | None = None,
        tmp_mb: int = 512,
        stream_limit: int = DEFAULT_STREAM_LIMIT,
        server: str | None = None,
        own_socket: Path | None = None,
    ) -> None:
        self.url = socket_url(url)
        # With no engine socket configured or found, Paddock starts Podman's service here
        # (when podman is installed) and stops it when it closes.
        self.own_socket = own_socket if url is None else None
        self._service: PodmanService | None = None
        self.user = user
        self.stream_limit = stream_limit
        self.server = server or server_name()
        self.config = ContainerConfig(image, user, tmp_mb, self.server, socket.gethostname())
        self._client: Any = None

    def client(self) -> Any:
        """The SDK client, connected on first use (blocking: call it in a thread)."""
        if self._client is None:
            self._client = connect(self.url)
        return self._client

    def problem(self) -> str | None:
        """Why this machine cannot run container sandboxes; None when it can."""
        if sdk_missing():
            return "the docker Python package is not installed (pip install 'docker>=7')"
        self._start_own_service()
        if self.url.startswith("unix://") and not Path(self.url[7:]).exists():
            path = self.url[7:]
            return (
                f"no container engine socket at {path}: start Docker, or Podman's service "
                f"(podman system service --time=0 unix://{path}), or set container_socket"
            )
        if os.geteuid() == 0 and self.user is None:
            return "the sandbox user does not exist (scripts/install creates it)"
        try:
            client = self.client()
            client.ping()
        except Exception as exc:
            self._client = None
            return f"the container engine at {self.url} does not answer: {explain(exc)[:300]}"
        try:
            client.api.inspect_image(self.config.image)
        except Exception as exc:
            if getattr(exc, "status_code", None) == 404:
                return (
                    f"the container image {self.config.image} is missing: build it with "
                    "`python -m paddock.runtime.sandbox.container_image build "
                    f"--socket {self.url}` "
                    "(scripts/install --dev does it with Podman)"
                )
            return f"cannot inspect the container image {self.config.image}: {explain(exc)[:300]}"
        return None

    def network_problem(self, network: Network) -> str | None:
        """Why containers cannot have `network` here (None: they can). For "private", finds
        out which engine answers (blocking): Podman gets slirp4netns, Docker its bridge."""
        if network is not Network.private:
            return None
        try:
            version = self.client().version()
        except Exception as exc:
            return f"the container engine at {self.url} does not answer: {explain(exc)[:300]}"
        names = " ".join(str(c.get("Name", "")) for c in version.get("Components") or [])
        if "podman" not in names.lower():
            self.config.private_mode = DOCKER_PRIVATE
            return None
        self.config.private_mode = PODMAN_PRIVATE
        if self.url.startswith("unix://") and shutil.which("slirp4netns") is None:
            return (
                "Podman needs slirp4netns for it: run scripts/install, or apt-get install "
                "slirp4netns"
            )
        return None

    def limits_enforced(self) -> bool:
        """Memory, CPU and pids limits: the engine holds them for every container."""
        return True

    def details(self) -> list[str]:
        """For `paddock doctor`: nothing beyond whether it works (the engine sets the rest)."""
        return []

    def _start_own_service(self) -> None:
        missing = self.url.startswith("unix://") and not Path(self.url[7:]).exists()
        if not missing or self.own_socket is None or shutil.which("podman") is None:
            return
        if answers(self.own_socket):  # left by a server that is gone: reuse it, stop it later
            self.url = f"unix://{self.own_socket}"
            self._service = PodmanService.take_over(self.own_socket)
            return
        try:
            self._service = PodmanService.start(self.own_socket)
        except (PodmanServiceError, OSError) as exc:
            log.warning("could not start Podman's API service: %s", exc)
            return
        self.url = self._service.url
        log.info("started Podman's API service at %s", self.url)

    def engine_running(self) -> bool:
        """Whether an engine answers already (nothing is started to find out)."""
        if self.url.startswith("unix://") and answers(Path(self.url[7:])):
            return True
        if self.own_socket is not None and answers(self.own_socket):
            self.url = f"unix://{self.own_socket}"
            if self._service is None:
                self._service = PodmanService.take_over(self.own_socket)
            return True
        return False

    async def settle(self) -> None:
        """Nothing starts in the background: its containers start when launched."""

    def close(self) -> None:
        """Stop the Podman service this launcher started, if it did (blocking)."""
        if self._service is not None:
            self._service.stop()
            self._service = None

    def prepare(self, tag: str, network: Network) -> None:
        """Nothing to make ahead: the engine makes a container's network as it starts it."""

    async def launch(self, spec: LaunchSpec) -> ContainerProcess:
        from paddock.runtime.sandbox.container_streams import AttachedOutput, close_socket

        self._refuse_what_cannot_launch(spec)
        try:
            api = (await asyncio.to_thread(self.client)).api
        except Exception as exc:
            raise LaunchError(
                f"the container engine at {self.url} does not answer: {explain(exc)}",
                code="sandbox_unavailable",
            ) from exc
        args = self.config.create_args(spec)
        args["host_config"] = self.config.host_config(api, spec)
        container_id = await self._create(api, args)
        loop = asyncio.get_running_loop()
        output: AttachedOutput | None = None
        stdin: Any = None
        kmsg: int | None = None
        try:
            path = args["environment"]["PATH"]
            if not await asyncio.to_thread(self._program_found, api, container_id, spec, path):
                program = spec.argv[0]
                raise LaunchError(f"command not found: {program}", program=program)
            params = {"stdout": 1, "stderr": 1, "stream": 1}
            sock = await asyncio.to_thread(api.attach_socket, container_id, params)
            output = AttachedOutput(sock, self.stream_limit, loop)
            if spec.stdin is not None:
                # Stdin over an attach of its own: Podman ends an attach whose stdin it cannot
                # write (a command that exits without reading it) and drops the output still
                # on its way with it (`ContainerProcess.feed` drains this one's echo).
                only_stdin = {"stdin": 1, "stream": 1}
                stdin = await asyncio.to_thread(api.attach_socket, container_id, only_stdin)
            kmsg = kernel_log()  # from before the start: a limit hit at once is seen too
            await asyncio.to_thread(api.start, container_id)
            pid = await asyncio.to_thread(_init_pid, api, container_id)
            process = ContainerProcess(
                api, container_id, spec, output, pid=pid, kmsg=kmsg, stdin=stdin
            )
        except BaseException as exc:
            if kmsg is not None:
                os.close(kmsg)
            if output is not None:
                output.close()
            if stdin is not None:
                close_socket(stdin)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(api.remove_container, container_id, force=True)
            if isinstance(exc, Exception) and not isinstance(exc, LaunchError):
                raise _start_error(exc, spec.argv[0]) from exc
            raise
        if spec.stdin is not None:
            process.feed(spec.stdin)
        return process

    def _refuse_what_cannot_launch(self, spec: LaunchSpec) -> None:
        sandbox = spec.sandbox
        assert sandbox is not None
        if not spec.argv:
            raise LaunchError("empty command")
        if not spec.cwd.is_dir():
            raise LaunchError(f"working directory {spec.cwd} does not exist", code="cwd_missing")
        if sandbox.on_network is not None:
            # The engine makes the container's network as it starts the command: nothing can
            # be set up in it before.
            raise LaunchError(
                "the container provider cannot prepare a sandbox's network before its command "
                "starts",
                code="sandbox_unavailable",
            )
        if sdk_missing():
            raise LaunchError(
                "the docker Python package is not installed", code="sandbox_unavailable"
            )
        if os.geteuid() == 0 and self.user is None:
            raise LaunchError(
                "the container sandbox needs its unprivileged user when Paddock runs as root: "
                "run scripts/install, or choose another sandbox provider",
                code="sandbox_unavailable",
            )

    def _program_found(self, api: Any, container_id: str, spec: LaunchSpec, path: str) -> bool:
        """Whether the command exists in the created container (blocking). The init runs it,
        so a missing one would otherwise show as the init's error and exit code, not as a
        launch error. Mounted paths are looked up on the host, the rest in the image (the
        engine's archive HEAD works before the start); an engine that cannot tell: True."""
        sandbox = spec.sandbox
        assert sandbox is not None
        program = spec.argv[0]
        if "/" in program:
            candidates = [spec.cwd / program]
        else:
            candidates = [Path(d) / program for d in path.split(":") if d.startswith("/")]
        mounted = [*sandbox.writable, *sandbox.readable]
        for candidate in candidates:
            if any(candidate.is_relative_to(m) for m in mounted):
                if candidate.exists():
                    return True
                continue
            if any(candidate.is_relative_to(d) for d in PRIVATE_DIRS):
                continue  # an empty tmpfs at the start
            try:
                url = api._url("/containers/{0}/archive", container_id)
                status = api.head(url, params={"path": str(candidate)}).status_code
            except Exception:
                return True
            if status == 200:
                return True
            if status != 404:
                return True
        return False

    async def _create(self, api: Any, args: dict[str, Any]) -> str:
        try:
            created = await asyncio.to_thread(lambda: api.create_container(**args))
        except Exception as exc:
            status = getattr(exc, "status_code", None)
            if status == 404:
                raise LaunchError(
                    f"the container image {args['image']} is missing (scripts/install --dev "
                    "builds Paddock's base image)",
                    code="sandbox_unavailable",
                ) from exc
            if status is None:
                raise LaunchError(
                    f"the container engine at {self.url} does not answer: {explain(exc)}",
                    code="sandbox_unavailable",
                ) from exc
            raise LaunchError(f"cannot create the container: {explain(exc)}") from exc
        return str(created["Id"])

    def reap_stale(self) -> list[str]:
        """At start-up: remove the containers of servers on this host that are gone (blocking),
        only where an engine runs already: a server's start never starts one. Returns their
        names."""
        if sdk_missing() or not self.engine_running():
            return []
        try:
            api = self.client().api
            found = api.containers(all=True, filters={"label": LABEL_SERVER})
        except Exception as exc:
            log.info("container reaping skipped: %s", explain(exc))
            return []
        removed = []
        for info in found:
            labels = info.get("Labels") or {}
            server = labels.get(LABEL_SERVER, "")
            if labels.get(LABEL_HOST, self.config.host) != self.config.host:
                continue  # another machine's server, sharing this engine
            if server == self.server or server_alive(server):
                continue
            try:
                api.remove_container(info["Id"], force=True)
            except Exception as exc:
                if getattr(exc, "status_code", None) != 404:
                    log.warning("cannot remove stale container %s: %s", info["Id"], exc)
                    continue
            names = info.get("Names") or [info["Id"][:12]]
            removed.append(str(names[0]).lstrip("/"))
        return removed


def _init_pid(api: Any, container_id: str, tries: int = 5) -> int | None:
    """The host pid of a started container's init; None once it has exited. Podman answers a
    container that exits while it is inspected with an error ("read /proc/N/cgroup: no such
    process"): asked again, it reports the exit."""
    for attempt in range(tries):
        try:
            state = api.inspect_container(container_id)["State"]
        except Exception:
            if attempt == tries - 1:
                raise
            time.sleep(0.02)
            continue
        return int(state.get("Pid") or 0) or None
    return None


def _start_error(exc: Exception, program: str) -> LaunchError:
    message = explain(exc)
    lowered = message.lower()
    if "executable file not found" in lowered or (
        "no such file or directory" in lowered and "exec" in lowered
    ):
        return LaunchError(f"command not found: {program}", program=program)
    if "permission denied" in lowered and "exec" in lowered:
        return LaunchError(f"permission denied running {program}", program=program)
    if getattr(exc, "status_code", None) is None:
        return LaunchError(f"the container engine failed: {message}", code="sandbox_unavailable")
    return LaunchError(f"cannot start the container: {message}", program=program)
