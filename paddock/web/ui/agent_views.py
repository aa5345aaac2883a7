"""Agent profiles as the settings page and the new-attempt form show them: each CLI's version
(asked once per installed executable, not on every page), and where each variant comes from."""

from __future__ import annotations

import os
import shlex
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, replace

import anyio.to_thread

from paddock.agents.base import Variant
from paddock.agents.registry import built_in_variants
from paddock.domain.secrets import mask_env
from paddock.services.agents import AgentInfo, AgentService

# executable → (its mtime when asked, the version it reported). A CLI is asked again only when
# its file changes (an install, an upgrade): `--version` of a Node CLI can take seconds (Gemini
# CLI's takes eight on a small machine), so pages never wait for all of them in a row.
_versions: dict[str, tuple[int, str | None]] = {}
_pending: dict[str, Future[None]] = {}
_lock = threading.Lock()
_askers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="paddock-agent-version")


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _known(executable: str) -> tuple[bool, str | None]:
    """(whether the version of the file as it is now is known, that version)."""
    with _lock:
        cached = _versions.get(executable)
    if cached is None or cached[0] != _mtime(executable):
        return False, None
    return True, cached[1]


def _ask(agents: AgentService, executable: str) -> Future[None]:
    """The (shared) question to `executable` for its version, asked once until its file
    changes."""

    def ask() -> None:
        stamp = _mtime(executable)
        version = agents.installs.version(executable)
        with _lock:
            if version is not None:  # no answer is not an answer: the next page asks again
                _versions[executable] = (stamp, version)
            _pending.pop(executable, None)

    with _lock:
        running = _pending.get(executable)
        if running is None:
            running = _pending[executable] = _askers.submit(ask)
    return running


async def with_versions(
    agents: AgentService, infos: list[AgentInfo] | None = None, *, wait: float = 0.0
) -> list[AgentInfo]:
    """The profiles (by default every one, found without running any CLI) with the version
    each installed CLI reported. Unknown versions are asked for in the background; the answer
    waits up to `wait` seconds for them (a version still unknown then is None)."""
    infos = agents.list_quick() if infos is None else infos
    asking = [
        _ask(agents, a.executable) for a in infos if a.executable and not _known(a.executable)[0]
    ]
    if asking and wait > 0:
        await anyio.to_thread.run_sync(lambda: futures_wait(asking, timeout=wait))
    return [
        replace(a, version=a.version or _known(a.executable)[1]) if a.executable else a
        for a in infos
    ]


def version_known(info: AgentInfo) -> bool:
    return info.executable is None or _known(info.executable)[0]


@dataclass(frozen=True, slots=True)
class VariantView:
    variant: Variant
    origin: str  # "built-in" (as shipped), "changed" (a built-in the user changed), "yours"
    env: dict[str, str]  # secret-looking values masked
    args: str  # extra args as one shell-quoted line

    @property
    def name(self) -> str:
        return self.variant.name

    @property
    def env_text(self) -> str:
        return "\n".join(f"{k}={v}" for k, v in self.env.items())


@dataclass(frozen=True, slots=True)
class ProfileView:
    info: AgentInfo
    variants: list[VariantView]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def version_pending(self) -> bool:
        """Installed, its version still being asked for (the page loads it when known)."""
        return self.info.installed and not version_known(self.info)


def variant_view(variant: Variant, shipped: dict[str, Variant]) -> VariantView:
    if variant.name in shipped:
        origin = "built-in" if shipped[variant.name] == variant else "changed"
    else:
        origin = "yours"
    return VariantView(
        variant=variant,
        origin=origin,
        env=mask_env(dict(variant.env)),
        args=shlex.join(variant.extra_args),
    )


def profile_view(agents: AgentService, info: AgentInfo) -> ProfileView:
    shipped = built_in_variants(agents.registry.get(info.name).adapter)
    return ProfileView(info, [variant_view(v, shipped) for v in info.variants])


async def profile_views(agents: AgentService) -> list[ProfileView]:
    return [profile_view(agents, info) for info in await with_versions(agents)]
