"""What a start of an attempt's previews gives each dev service: the services themselves, the
environment (its database, the other services' URLs), its sandbox's writable data dir and, with
network "none", where its bridge socket goes; and how a preview is addressed and shown."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from paddock.config import Settings
from paddock.domain.entities import Attempt, Project
from paddock.domain.preview import DEFAULT_SERVICE, Preview, Service, service_env_name
from paddock.domain.project_config import CONFIG_FILE, parse_repo_config
from paddock.domain.sandbox import Network, Provider
from paddock.services.context import Context
from paddock.services.preview_database import attempt_data_dir, ensure_schema, sqlite_url
from paddock.services.preview_run import RunPlan
from paddock.store import previews as store


def preview_url(settings: Settings, preview: Preview) -> str:
    port = settings.preview_public_port or settings.port
    default = 443 if settings.preview_scheme == "https" else 80
    suffix = "" if port == default else f":{port}"
    return f"{settings.preview_scheme}://{preview.host}.{settings.preview_domain}{suffix}/"


def preview_view(settings: Settings, preview: Preview) -> dict[str, Any]:
    """The preview as the API and events show it (never its token hash)."""
    return {
        "id": preview.id,
        "attempt_id": preview.attempt_id,
        "project_id": preview.project_id,
        "service": preview.service,
        "command": preview.command,
        "host": preview.host,
        "url": preview_url(settings, preview),
        "port": preview.port,
        "process_id": preview.process_id,
        "status": preview.status,
        "error": preview.error,
        "debug_id": preview.debug_id,
        "notice": preview.notice,
        "last_access_at": preview.last_access_at,
        "created_at": preview.created_at,
        "updated_at": preview.updated_at,
    }


async def dev_services(attempt: Attempt, project: Project) -> list[Service]:
    """The attempt's dev services: its dev script as `web`, the project's services and those
    its worktree's .paddock.toml declares (the worktree's win)."""
    found: dict[str, str] = {}
    if attempt.scripts.dev.strip():
        found[DEFAULT_SERVICE] = attempt.scripts.dev
    found.update(project.services)
    config = Path(attempt.worktree_path) / CONFIG_FILE
    if config.is_file():
        text = await asyncio.to_thread(config.read_text, errors="replace")
        found.update(parse_repo_config(text).services)
    return [Service(name, command) for name, command in sorted(found.items())]


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
        self, attempt: Attempt, preview: Preview, env: dict[str, str], port: int
    ) -> RunPlan:
        settings = self.ctx.settings
        data_dir = attempt_data_dir(settings, attempt.id)
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        provider = self.ctx.sandboxes.resolve(attempt.sandbox.provider)
        if provider is not Provider.none:
            await asyncio.to_thread(self.ctx.sandboxes.hand_over, data_dir)
        network = attempt.sandbox.over(settings.sandbox_defaults).network
        network_none = provider is not Provider.none and network is Network.none
        if network_none and self._bridges is None:
            self._bridges = Path(tempfile.mkdtemp(prefix="paddock-bridges-"))
        return RunPlan(
            attempt=attempt,
            command=preview.command,
            env=env,
            writable=[data_dir],
            network_none=network_none,
            port=port,
            bridge_dir=self._bridges,
        )

    def close(self) -> None:
        if self._bridges is not None:
            shutil.rmtree(self._bridges, ignore_errors=True)
