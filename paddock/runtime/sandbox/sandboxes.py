"""The launcher the engine uses: each process goes to the provider its sandbox names.

Whether a provider works on this machine is found out once (on first use) and kept: `problem`
says why one cannot run (for `paddock doctor`, and for a clear error when an attempt asks for
it); `auto` picks bwrap on Linux when it works, else none.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Protocol

from paddock.domain.sandbox import Network, Provider
from paddock.runtime.launcher import Launched, LaunchError, LaunchSpec, PlainLauncher
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.cgroups import Hierarchy
from paddock.runtime.sandbox.sandbox_identity import find_user

AUTO = "auto"


class ProviderLauncher(Protocol):
    name: str

    def problem(self) -> str | None: ...

    async def launch(self, spec: LaunchSpec) -> Launched: ...

    def reap_stale(self) -> list[str]: ...

    def engine_running(self) -> bool: ...

    def network_problem(self, network: Network) -> str | None: ...

    def close(self) -> None: ...


class Sandboxes:
    name = "sandboxes"

    def __init__(
        self,
        *,
        default: str = AUTO,
        user: str = "paddock-sandbox",
        tmp_mb: int = 512,
        container: ProviderLauncher | None = None,
    ) -> None:
        self.plain = PlainLauncher()
        self.hierarchy = Hierarchy()
        self.bwrap = BwrapLauncher(
            user=find_user(user), hierarchy=self.hierarchy, tmp_mb=tmp_mb, plain=self.plain
        )
        self.container = container
        self.default = default
        self._problems: dict[Provider, str | None] = {}
        self._network_problems: dict[tuple[Provider, Network], str | None] = {}

    def problem(self, provider: Provider) -> str | None:
        """Why `provider` cannot run here (None: it can). Probed once."""
        if provider not in self._problems:
            self._problems[provider] = self._probe(provider)
        return self._problems[provider]

    def _probe(self, provider: Provider) -> str | None:
        if provider is Provider.none:
            return None
        if provider is Provider.bwrap:
            if not sys.platform.startswith("linux"):
                return "bubblewrap needs Linux"
            return self.bwrap.problem()
        if self.container is None:
            return "the container provider is not set up (no Docker or Podman socket configured)"
        return self.container.problem()

    def network_problem(self, provider: Provider, network: Network) -> str | None:
        """Why `provider`'s sandboxes cannot have `network` here (None: they can, or the
        provider, none, has no network of its own). Probed once."""
        if provider is Provider.none or network is not Network.private:
            return None
        key = (provider, network)
        if key not in self._network_problems:
            launcher = self.bwrap if provider is Provider.bwrap else self.container
            found = launcher.network_problem(network) if launcher is not None else None
            self._network_problems[key] = found
        return self._network_problems[key]

    def resolve(self, choice: Provider | str | None) -> Provider:
        """The provider for `choice` (None: the server's default; `auto`: bwrap if it works)."""
        choice = choice or self.default
        if choice == AUTO:
            return Provider.none if self.problem(Provider.bwrap) else Provider.bwrap
        return Provider(choice)

    def limits_enforced(self, provider: Provider) -> bool:
        """Whether memory, CPU and pids limits hold for `provider` on this machine."""
        if provider is Provider.bwrap:
            return self.hierarchy.available
        return provider is Provider.container

    async def launch(self, spec: LaunchSpec) -> Launched:
        provider = spec.sandbox.provider if spec.sandbox is not None else Provider.none
        if provider is Provider.none:
            return await self.plain.launch(spec)
        problem = self.problem(provider)
        if problem is not None:
            raise LaunchError(
                f"sandbox provider {provider.value} cannot run here: {problem}",
                code="sandbox_unavailable",
            )
        assert spec.sandbox is not None
        problem = self.network_problem(provider, spec.sandbox.network)
        if problem is not None:
            raise LaunchError(
                f"network {spec.sandbox.network.value} cannot run here: {problem}",
                code="sandbox_unavailable",
            )
        if provider is Provider.bwrap:
            return await self.bwrap.launch(spec)
        assert self.container is not None  # problem() said it is set up
        return await self.container.launch(spec)

    def sandbox_uid(self) -> int | None:
        """The uid sandboxes run as when it is not the server's own (the server runs as
        root): a process of that uid is in a sandbox."""
        user = self.bwrap.user
        return user.uid if user is not None and os.geteuid() == 0 else None

    def clear_links(self, path: Path) -> int:
        """Blocking: remove the symlinks a sandbox left under `path` (see BwrapLauncher)."""
        return self.bwrap.clear_links(path) if path.exists() else 0

    def hand_over(self, path: Path) -> None:
        """Blocking: make what the server wrote under `path` the sandbox user's (as root)."""
        if path.exists():
            self.bwrap.hand_over(path)

    def reap_stale(self) -> list[str]:
        """At start-up (blocking): the cgroups and containers left by servers that are gone."""
        removed = self.hierarchy.reap_stale()
        # Containers only where an engine runs already: a server start never starts one.
        if self.container is not None and self.container.engine_running():
            removed += self.container.reap_stale()
        return removed

    def close(self) -> None:
        self.bwrap.close()
        if self.container is not None:
            self.container.close()
