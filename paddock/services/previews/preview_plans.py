"""What a start of an attempt's previews gives each dev service: the services themselves, the
environment (its database, the other services' URLs), its sandbox's writable data dir and, with
a network of its own ("none", "private"), where its bridge socket goes; with network
"private", what the server relays into it (its database on the host's loopback, the other
services); and how a preview is addressed and shown."""

from __future__ import annotations

import asyncio
import functools
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from paddock.config import Settings
from paddock.domain.entities import Attempt, Project
from paddock.domain.preview import (
    DEFAULT_SERVICE,
    Preview,
    PreviewView,
    Service,
    service_env_name,
)
from paddock.domain.sandbox import Network, Provider
from paddock.runtime.sandbox.private_network import Opener
from paddock.services.attempts.attempt_worktrees import read_repo_config
from paddock.services.context import Context
from paddock.services.previews.preview_database import attempt_data_dir, ensure_schema, sqlite_url
from paddock.services.previews.preview_run import RunPlan
from paddock.store import previews as store


def preview_url(settings: Settings, preview: Preview) -> str:
    previews = settings.previews
    port = previews.public_port or previews.serving_port or settings.server.port
    default = 443 if settings.previews.scheme == "https" else 80
    suffix = "" if port == default else f":{port}"
    return f"{settings.previews.scheme}://{preview.host}.{settings.previews.domain}{suffix}/"


def preview_view(settings: Settings, preview: Preview) -> PreviewView:
    """The preview as the API and events show it (never its token hash)."""
    return PreviewView(
        id=preview.id,
        attempt_id=preview.attempt_id,
        project_id=preview.project_id,
        service=preview.service,
        command=preview.command,
        host=preview.host,
        url=preview_url(settings, preview),
        port=preview.port,
        process_id=preview.process_id,
        status=preview.status,
        error=preview.error,
        debug_id=preview.debug_id,
        notice=preview.notice,
        last_access_at=preview.last_access_at,
        created_at=preview.created_at,
        updated_at=preview.updated_at,
    )


async def dev_services(attempt: Attempt, project: Project) -> list[Service]:
    """The attempt's dev services: its dev script as `web`, the project's services and those
    its worktree's .paddock.toml declares (the worktree's win)."""
    found: dict[str, str] = {}
    if attempt.scripts.dev.strip():
        found[DEFAULT_SERVICE] = attempt.scripts.dev
    found.update(project.services)
    config = await asyncio.to_thread(read_repo_config, Path(attempt.worktree_path))
    if config is not None:
        found.update(config.services)
    return [Service(name, command) for name, command in sorted(found.items())]


# Connects to the attempt's running service whose (reserved) port is given.
ConnectService = Callable[[int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
LOOPBACK_NAMES = ("localhost", "::1")


def loopback_database(url: str) -> tuple[str, int] | None:
    """Where a PostgreSQL DATABASE_URL points when that is the host's loopback."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres") or parts.hostname is None:
        return None
    host = parts.hostname
    if host not in LOOPBACK_NAMES and not host.startswith("127."):
        return None
    return ("127.0.0.1" if host == "localhost" else host), parts.port or 5432


def forwards(env: dict[str, str], connect_service: ConnectService | None) -> dict[int, Opener]:
    """What a dev service in a private network is told is on its 127.0.0.1 but is not: its
    database when that is on the host's loopback, and the attempt's other services (their
    `PADDOCK_SERVICE_<NAME>_URL`). The server relays each, and nothing else of the host."""
    found: dict[int, Opener] = {}
    database = loopback_database(env.get("DATABASE_URL", ""))
    if database is not None:
        found[database[1]] = functools.partial(asyncio.open_connection, *database)
    for name, value in env.items():
        service = name.startswith("PADDOCK_SERVICE_") and not name.endswith("_PUBLIC_URL")
        port = urlsplit(value).port if service else None
        if port is not None and connect_service is not None:
            found[port] = functools.partial(connect_service, port)
    return found


class Planner:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._bridges: Path | None = None  # a private dir for bridge sockets, made on first use

    async def env(
        self,
        attempt: Attempt,
        project: Project,
        services: list[Service],
        ports: dict[str, int],
    ) -> dict[str, str]:
        """What every service of the attempt is told: its database, the others' URLs."""
        settings = self.ctx.settings
        env: dict[str, str] = {}
        names = {s.name for s in services}
        previews = await self.ctx.db.run(lambda s: store.list_for_attempt(s, attempt.id))
        for preview in previews:
            port = ports.get(preview.id, preview.port)
            if port is not None and preview.service in names:
                name = service_env_name(preview.service)
                env[name] = f"http://127.0.0.1:{port}"
                env[name.replace("_URL", "_PUBLIC_URL")] = preview_url(settings, preview)
        if project.database == "sqlite":
            env["DATABASE_URL"] = sqlite_url(settings, attempt.id)
        elif project.database == "postgres":
            env["DATABASE_URL"] = await asyncio.to_thread(ensure_schema, settings, attempt.id)
        return env

    async def plan(
        self,
        attempt: Attempt,
        preview: Preview,
        env: dict[str, str],
        port: int,
        connect_service: ConnectService | None = None,
    ) -> RunPlan:
        settings = self.ctx.settings
        data_dir = attempt_data_dir(settings, attempt.id)
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        provider = self.ctx.sandboxes.resolve(attempt.sandbox.provider)
        if provider is not Provider.none:
            await asyncio.to_thread(self.ctx.sandboxes.hand_over, data_dir)
        network = attempt.sandbox.over(settings.sandbox.defaults).network
        # Networks "none" and "private" are the sandbox's own: reached through a bridge.
        own_network = provider is not Provider.none and (network or Network.private).own_namespace
        if own_network and self._bridges is None:
            self._bridges = Path(tempfile.mkdtemp(prefix="paddock-bridges-"))
        # Only bwrap sandboxes can have relays set up before their command starts.
        relayed = provider is Provider.bwrap and (network or Network.private) is Network.private
        return RunPlan(
            attempt=attempt,
            command=preview.command,
            env=env,
            writable=[data_dir],
            own_network=own_network,
            port=port,
            bridge_dir=self._bridges,
            forwards=forwards(env, connect_service) if relayed else {},
        )

    def close(self) -> None:
        if self._bridges is not None:
            shutil.rmtree(self._bridges, ignore_errors=True)
