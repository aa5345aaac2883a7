"""The launcher the engine uses: each process goes to the provider its sandbox names.

The providers (bwrap, container) are given to it, built where the engine is wired
(`services/sandbox/sandboxing.py`), and each fulfils `ProviderLauncher` whole: whatever the
engine asks of a provider, every provider answers, so none is ever asked whether it can. This
module knows no provider's module, nor one provider another's
(tests/runtime/sandbox/test_providers.py).

Whether a provider works on this machine is found out once (on first use) and kept: `problem`
says why one cannot run (for `paddock doctor`, and for a clear error when an attempt asks for
it); `auto` picks bwrap when it works, else none. What the server and every provider's
sandboxes share (the sandbox user, the files handed over to it) is the same whatever runs them
(`sandbox_identity`, `sandbox_files`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from paddock.domain.sandbox import Network, Provider
from paddock.runtime.launcher import Launched, LaunchError, LaunchSpec, PlainLauncher
from paddock.runtime.sandbox import sandbox_files
from paddock.runtime.sandbox.sandbox_identity import SandboxUser

AUTO = "auto"


class ProviderLauncher(Protocol):
    """A sandbox provider: the complete contract between `Sandboxes` and one provider."""

    name: str  # the `Provider` value it serves

    def problem(self) -> str | None:
        """Why this machine cannot run its sandboxes (blocking, may probe); None when it can."""
        ...

    def network_problem(self, network: Network) -> str | None:
        """Why its sandboxes cannot have `network` here; None when they can."""
        ...

    def limits_enforced(self) -> bool:
        """Whether memory, CPU and pids limits hold for its sandboxes on this machine."""
        ...

    def details(self) -> list[str]:
        """What `paddock doctor` adds once it works (e.g. the cgroup version); may be []."""
        ...

    def prepare(self, tag: str, network: Network) -> None:
        """Start making what a launch of `tag` with `network` will need and can have ahead
        (bwrap: its private network), while the caller does other work; nothing when there is
        nothing to make. What no launch claims soon is let go."""
        ...

    async def launch(self, spec: LaunchSpec) -> Launched:
        """Start `spec` in a sandbox of this provider (`spec.sandbox` is set)."""
        ...

    def reap_stale(self) -> list[str]:
        """At start-up (blocking): remove what servers that are gone left (never starting
        anything to find out); the names of what was removed."""
        ...

    async def settle(self) -> None:
        """At shutdown, on the loop and before `close`: start nothing more, and let what it
        is starting in the background finish (a start cancelled half-way by the loop's end
        can hang it)."""
        ...

    def close(self) -> None:
        """At shutdown (blocking): end what it keeps running (spare shells, an engine)."""
        ...


class Sandboxes:
    name = "sandboxes"

    def __init__(
        self,
        *,
        providers: Mapping[Provider, ProviderLauncher],
        user: SandboxUser | None,
        default: str = AUTO,
        plain: PlainLauncher | None = None,
    ) -> None:
        for provider, launcher in providers.items():
            if provider is Provider.none or launcher.name != provider.value:
                raise ValueError(f"provider {launcher.name} given as {provider.value}")
        self.providers = dict(providers)
        self.user = user  # who sandboxes run as when the server runs as root
        self.plain = plain or PlainLauncher()
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
        launcher = self.providers.get(provider)
        if launcher is None:
            return f"the {provider.value} provider is not set up in this server"
        return launcher.problem()

    def network_problem(self, provider: Provider, network: Network) -> str | None:
        """Why `provider`'s sandboxes cannot have `network` here (None: they can, or the
        provider, none, has no network of its own). Probed once."""
        if provider is Provider.none or network is not Network.private:
            return None
        key = (provider, network)
        if key not in self._network_problems:
            launcher = self.providers.get(provider)
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
        launcher = self.providers.get(provider)
        return launcher is not None and launcher.limits_enforced()

    def details(self, provider: Provider) -> list[str]:
        """What `paddock doctor` says of `provider` beyond whether it works."""
        launcher = self.providers.get(provider)
        return launcher.details() if launcher is not None else []

    def prepare(self, provider: Provider, network: Network, tag: str) -> None:
        """Ahead of launching `tag` in `provider` with `network`, start making what that
        launch needs and can have early (see `ProviderLauncher.prepare`); a provider that
        cannot run prepares nothing (its launch says why)."""
        launcher = self.providers.get(provider)
        if launcher is None or self.problem(provider) or self.network_problem(provider, network):
            return
        launcher.prepare(tag, network)

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
        return await self.providers[provider].launch(spec)  # problem() said it is set up

    def sandbox_uid(self) -> int | None:
        """The uid sandboxes run as when it is not the server's own (the server runs as
        root): a process of that uid is in a sandbox."""
        user = self.user
        return user.uid if user is not None and os.geteuid() == 0 else None

    def clear_links(self, path: Path) -> int:
        """Blocking: remove the symlinks a sandbox left under `path` (see `sandbox_files`)."""
        return sandbox_files.clear_links(path) if path.exists() else 0

    def hand_over(self, path: Path) -> None:
        """Blocking: make what the server wrote under `path` the sandbox user's (as root)."""
        if path.exists():
            sandbox_files.hand_over(path, self.user)

    def reap_stale(self) -> list[str]:
        """At start-up (blocking): the cgroups and containers left by servers that are gone."""
        return [name for launcher in self.providers.values() for name in launcher.reap_stale()]

    async def settle(self) -> None:
        for launcher in self.providers.values():
            await launcher.settle()

    def close(self) -> None:
        for launcher in self.providers.values():
            launcher.close()
