"""The agent profiles as the UI and API show them, and what one agent turn is given."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import anyio.to_thread
from pydantic import SecretStr

from paddock.agents.base import Channel, Credentials, TurnContext, Variant
from paddock.agents.install import AgentInstalls
from paddock.agents.registry import BUILT_IN, OVERRIDES_FILE, AgentProfile, AgentRegistry
from paddock.config import Settings
from paddock.domain.entities import AgentSpec
from paddock.domain.errors import Unavailable
from paddock.domain.secrets import keep_masked


@dataclass(frozen=True, slots=True)
class AgentInfo:
    name: str
    label: str
    program: str
    installed: bool  # the program is in Paddock's agents dir or on PATH
    executable: str | None
    version: str | None  # None when not installed or not asked for
    needs_command: bool  # the attempt supplies the shell command (the `script` agent)
    installable: bool  # `paddock agents install <name>` can install it
    variants: list[Variant]


def credentials(settings: Settings) -> Credentials:
    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None

    return Credentials(
        anthropic_api_key=secret(settings.agents.anthropic_api_key),
        anthropic_base_url=settings.agents.anthropic_base_url,
        openai_api_key=secret(settings.agents.openai_api_key),
        openai_base_url=settings.agents.openai_base_url,
        gemini_api_key=secret(settings.agents.gemini_api_key),
        gemini_base_url=settings.agents.gemini_base_url,
    )


class AgentService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = AgentRegistry(BUILT_IN, settings.storage.data_dir / OVERRIDES_FILE)
        self.installs = AgentInstalls(settings.agents.clis)

    def _info(self, profile: AgentProfile, *, with_version: bool) -> AgentInfo:
        adapter = profile.adapter
        executable = self.installs.executable(adapter)
        version = self.installs.version(executable) if executable and with_version else None
        return AgentInfo(
            name=profile.name,
            label=profile.label,
            program=adapter.program,
            installed=executable is not None,
            executable=executable,
            version=version,
            needs_command=adapter.needs_command(),
            installable=adapter.package is not None,
            variants=list(profile.variants.values()),
        )

    def list_quick(self) -> list[AgentInfo]:
        """Every profile, without running any CLI (for pages that render often)."""
        return [self._info(p, with_version=False) for p in self.registry.profiles()]

    async def list_all(self) -> list[AgentInfo]:
        """Every profile with the version its CLI reports (runs each installed CLI once)."""
        return await anyio.to_thread.run_sync(self.list_with_versions)

    def list_with_versions(self) -> list[AgentInfo]:
        """Blocking: runs each installed CLI's `--version` (all at once; each file once)."""
        profiles = self.registry.profiles()
        with ThreadPoolExecutor(max_workers=len(profiles) or 1) as pool:
            return list(pool.map(lambda p: self._info(p, with_version=True), profiles))

    async def install(self, name: str) -> AgentInfo:
        profile = self.registry.get(name)
        await anyio.to_thread.run_sync(self.installs.install, profile.adapter)
        return await anyio.to_thread.run_sync(lambda: self._info(profile, with_version=True))

    async def save_variant(self, name: str, variant: Variant) -> AgentInfo:
        """Add or change a variant of profile `name` (in the data dir's agents.toml). A secret
        env value sent back masked, as the API and the settings page show it, keeps its value."""

        def save() -> AgentProfile:
            stored = self.registry.get(name).variants.get(variant.name)
            env = keep_masked(variant.env, stored.env) if stored is not None else variant.env
            return self.registry.save_variant(name, replace(variant, env=env))

        profile = await anyio.to_thread.run_sync(save)
        return await anyio.to_thread.run_sync(lambda: self._info(profile, with_version=True))

    async def delete_variant(self, name: str, variant: str) -> AgentInfo:
        profile = await anyio.to_thread.run_sync(self.registry.delete_variant, name, variant)
        return await anyio.to_thread.run_sync(lambda: self._info(profile, with_version=True))

    def check(self, spec: AgentSpec) -> None:
        """Raise when `spec` cannot run: unknown profile or variant, no command, not installed."""
        profile, _variant = self.registry.resolve(spec)
        if self.installs.executable(profile.adapter) is None:
            raise _not_installed(profile)

    def turn(
        self,
        spec: AgentSpec,
        *,
        prompt: str,
        worktree: Path,
        home: Path,
        resume: str | None,
        channel: Channel | None = None,
    ) -> tuple[AgentProfile, TurnContext]:
        """What the agent of `spec` is given for one turn; Unavailable when it is not installed."""
        profile, variant = self.registry.resolve(spec)
        executable = self.installs.executable(profile.adapter)
        if executable is None:
            raise _not_installed(profile)
        ctx = TurnContext(
            prompt=prompt,
            worktree=worktree,
            home=home,
            executable=executable,
            variant=variant,
            credentials=credentials(self.settings),
            resume=resume,
            channel=channel,
        )
        return profile, ctx


def _not_installed(profile: AgentProfile) -> Unavailable:
    return Unavailable(
        f"{profile.adapter.program} ({profile.name}) is not installed: run "
        f"`paddock agents install {profile.name}` or put it on PATH",
        code="agent_not_installed",
    )
