"""Sandboxes: where a process runs (provider), what it may reach (network), what it may use
(limits). Settings give defaults; a project and then an attempt may override any part."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from paddock.domain.errors import InvalidInput


class Provider(StrEnum):
    none = "none"  # a plain process group: trusted use, or no sandbox on this platform
    bwrap = "bwrap"  # bubblewrap namespaces + cgroup limits (the default on Linux)
    container = "container"  # a container through the Docker Engine API (Docker or Podman)


class Network(StrEnum):
    # A namespace of its own, out to the world through user-mode networking (slirp4netns),
    # never to the host's loopback (where Paddock listens): an agent reaches its model API.
    private = "private"
    none = "none"  # loopback only
    # Shared with the host: every service on the host's loopback, Paddock's API included, is
    # within reach; only authentication stands between a sandbox and the server. Dangerous.
    host = "host"

    @property
    def own_namespace(self) -> bool:
        """Whether the sandbox has a network namespace of its own (its 127.0.0.1 is not the
        host's: a server inside is reached through a bridge)."""
        return self is not Network.host


class LimitHit(StrEnum):
    """Which limit ended a sandboxed process (its `failure`), instead of a bare exit code."""

    oom_killed = "oom_killed"
    pids_limit = "pids_limit"
    timeout = "timeout"


@dataclass(frozen=True, slots=True)
class Limits:
    """None: no limit of that kind."""

    memory_mb: int | None = None
    swap_mb: int | None = None  # on top of memory
    cpus: float | None = None  # cores, e.g. 1.5
    pids: int | None = None
    timeout_s: float | None = None  # wall clock, per process

    def over(self, base: Limits) -> Limits:
        """These limits where set, `base` elsewhere."""
        return replace(
            base, **{f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}
        )


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """A (partial) sandbox choice: None fields fall back to the level below."""

    provider: Provider | None = None
    network: Network | None = None
    limits: Limits = field(default_factory=Limits)
    image: str | None = None  # the container provider's image (None: Paddock's base image)

    def over(self, base: SandboxConfig) -> SandboxConfig:
        return SandboxConfig(
            provider=self.provider or base.provider,
            network=self.network or base.network,
            limits=self.limits.over(base.limits),
            image=self.image or base.image,
        )

    def to_json(self) -> dict[str, Any]:
        limits = {f.name: getattr(self.limits, f.name) for f in fields(self.limits)}
        return {
            "provider": self.provider.value if self.provider else None,
            "network": self.network.value if self.network else None,
            "limits": {k: v for k, v in limits.items() if v is not None},
            "image": self.image,
        }


_LIMIT_TYPES: dict[str, type] = {
    "memory_mb": int,
    "swap_mb": int,
    "cpus": float,
    "pids": int,
    "timeout_s": float,
}
_MINIMUM = {"memory_mb": 16, "swap_mb": 0, "cpus": 0.01, "pids": 8, "timeout_s": 1}


def parse_limits(raw: dict[str, Any] | None) -> Limits:
    raw = raw or {}
    unknown = set(raw) - set(_LIMIT_TYPES)
    if unknown:
        raise InvalidInput(f"unknown limits {sorted(unknown)}", code="bad_limits")
    values: dict[str, Any] = {}
    for name, kind in _LIMIT_TYPES.items():
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"limit {name} must be a number", code="bad_limits")
        if value < _MINIMUM[name]:
            raise InvalidInput(f"limit {name} must be at least {_MINIMUM[name]}", code="bad_limits")
        values[name] = kind(value)
    return Limits(**values)


def parse_sandbox(raw: dict[str, Any] | None) -> SandboxConfig:
    """A sandbox choice from JSON (API bodies, stored rows); clear errors for bad values."""
    raw = raw or {}
    unknown = set(raw) - {"provider", "network", "limits", "image"}
    if unknown:
        raise InvalidInput(f"unknown sandbox keys {sorted(unknown)}", code="bad_sandbox")
    try:
        provider = Provider(raw["provider"]) if raw.get("provider") else None
    except ValueError:
        known = ", ".join(p.value for p in Provider)
        raise InvalidInput(
            f"unknown sandbox provider {raw['provider']!r} (known: {known})",
            code="unknown_provider",
        ) from None
    try:
        network = Network(raw["network"]) if raw.get("network") else None
    except ValueError:
        raise InvalidInput(
            f"unknown network mode {raw['network']!r} (private, none or host)",
            code="bad_network",
        ) from None
    image = raw.get("image") or None
    if image is not None and (not isinstance(image, str) or not image.strip()):
        raise InvalidInput("a sandbox image must be a name such as debian:12", code="bad_sandbox")
    return SandboxConfig(provider, network, parse_limits(raw.get("limits")), image)
