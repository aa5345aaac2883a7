"""Who a sandboxed process is, whatever the provider: the unprivileged user it runs as when
Paddock runs as root, and the environment it gets (whitelisted host variables, Paddock's own,
a HOME of its own)."""

from __future__ import annotations

import pwd
from dataclasses import dataclass
from pathlib import Path

from paddock.runtime.launcher import LaunchSpec

# Host variables a sandboxed process keeps; everything else must be given by Paddock.
ENV_WHITELIST = frozenset({"PATH", "LANG", "LANGUAGE", "TERM", "TZ", "COLORTERM", "NO_COLOR"})


@dataclass(frozen=True, slots=True)
class SandboxUser:
    name: str
    uid: int
    gid: int


def find_user(name: str) -> SandboxUser | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return SandboxUser(name, entry.pw_uid, entry.pw_gid)


def sandbox_env(spec: LaunchSpec, home: str) -> dict[str, str]:
    assert spec.sandbox is not None
    keep = ENV_WHITELIST | spec.sandbox.pass_env
    env = {k: v for k, v in spec.env.items() if k in keep or k.startswith("LC_")}
    env["HOME"] = home
    # The worktree belongs to the sandbox's user, the repository it links to does not: git
    # would refuse it as "dubious ownership". Inside the sandbox that check protects nothing.
    env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="safe.directory", GIT_CONFIG_VALUE_0="*")
    return env


def sandbox_home(spec: LaunchSpec) -> str:
    """The given HOME when it is one of the sandbox's own writable paths, else /tmp."""
    assert spec.sandbox is not None
    home = spec.env.get("HOME")
    if home and any(Path(home).is_relative_to(p) for p in spec.sandbox.writable):
        return home
    return "/tmp"
