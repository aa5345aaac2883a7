"""What a process of an attempt may see and use in its sandbox, from the attempt's choice.

Functions, not a service class: each builds something from the settings (the engine's
Sandboxes, one process's SandboxSpec) and holds no state; `paddock doctor` and the bench call
`make_sandboxes` without an engine, and ProcessService calls `sandbox_spec` per process."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import paddock
from paddock.config import Settings
from paddock.domain.entities import Attempt, Project
from paddock.domain.sandbox import Network, Provider
from paddock.runtime.launcher import NetworkHook, PlainLauncher, SandboxSpec
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.cgroups import Hierarchy
from paddock.runtime.sandbox.container import ContainerLauncher
from paddock.runtime.sandbox.sandbox_identity import find_user
from paddock.runtime.sandbox.sandboxes import Sandboxes


def make_sandboxes(settings: Settings) -> Sandboxes:
    """The engine's sandboxes: every provider built here, each given the same way."""
    user = find_user(settings.sandbox.user)
    plain = PlainLauncher()
    bwrap = BwrapLauncher(
        user=user, hierarchy=Hierarchy(), tmp_mb=settings.sandbox.tmp_mb, plain=plain
    )
    container = ContainerLauncher(
        url=settings.sandbox.container_socket,
        image=settings.sandbox.container_image,
        user=user,
        tmp_mb=settings.sandbox.tmp_mb,
        own_socket=settings.storage.data_dir / "podman.sock",
    )
    return Sandboxes(
        providers={Provider.bwrap: bwrap, Provider.container: container},
        user=user,
        default=settings.sandbox.provider,
        plain=plain,
    )


def home_tool_dir(path: Path) -> Path | None:
    """For a path inside a home directory (hidden in a sandbox), the top-level directory of
    that home it lies in (`/root/.pyenv/shims` → `/root/.pyenv`, `/home/u/.nvm/versions/…` →
    `/home/u/.nvm`): tools installed per user still run in the sandbox, read-only. Never a
    whole home directory; None outside homes."""
    for homes in (Path("/root"), Path("/home")):
        if not path.is_relative_to(homes) or path == homes:
            continue
        parts = path.relative_to(homes).parts
        depth = 1 if homes.name == "root" else 2  # /root/X, /home/<user>/X
        return homes.joinpath(*parts[:depth]) if len(parts) > depth else path
    return None


def tool_dirs(path_variable: str | None, program: str | None = None) -> list[Path]:
    """What to show a sandbox read-only so the host's per-user tools work: the home tool
    dirs of the PATH entries, and of the program itself (symlinks followed: a venv's python)."""
    candidates = [Path(entry) for entry in (path_variable or "").split(os.pathsep) if entry]
    if program:
        found = shutil.which(program, path=path_variable)
        if found:
            candidates += [Path(found), Path(found).resolve()]
    dirs: list[Path] = []
    for candidate in candidates:
        top = home_tool_dir(candidate) if candidate.is_absolute() else None
        # A private dir (~/.cache, 0700) is no tool dir, and its owner's eyes only.
        if top is not None and _open_to_others(top) and top not in dirs:
            dirs.append(top)
    return dirs


def paddock_itself() -> list[Path]:
    """Paddock's own code and Python, read-only: what runs in a sandbox may be Paddock's (the
    demo agent's script, the Aider wrapper), and a clone may live anywhere, /tmp or a home
    included, which a sandbox makes private."""
    package_root = Path(paddock.__file__).resolve().parent.parent
    return [Path(sys.prefix), Path(sys.base_prefix).resolve(), package_root]


def _open_to_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & 0o005 == 0o005)
    except OSError:
        return False


def sandbox_network(settings: Settings, attempt: Attempt) -> Network:
    """The network of `attempt`'s sandboxed processes."""
    return attempt.sandbox.over(settings.sandbox.defaults).network or Network.private


def sandbox_spec(
    settings: Settings,
    attempt: Attempt,
    project: Project,
    provider: Provider,
    given: dict[str, str],
    argv: Sequence[str] = (),
    writable: Sequence[Path] = (),
    readable: Sequence[Path] = (),
    on_network: NetworkHook | None = None,
) -> SandboxSpec | None:
    """The sandbox of one process of `attempt`; None for provider none (a plain process).

    The repository's .git is readable (git works in the worktree, read-only: Paddock commits
    for the agent); Paddock's data dir and every worktree are hidden but the attempt's own.
    `on_network` is called with its network (network "private") before the command starts.
    """
    if provider is Provider.none:
        return None
    choice = attempt.sandbox.over(settings.sandbox.defaults)
    return SandboxSpec(
        provider=provider,
        network=sandbox_network(settings, attempt),
        limits=choice.limits,
        writable=(Path(attempt.worktree_path), *writable),
        readable=(
            Path(project.repo_path) / ".git",
            *tool_dirs(os.environ.get("PATH"), argv[0] if argv else None),
            *paddock_itself(),
            *readable,
        ),
        hidden=(settings.storage.data_dir, settings.storage.worktrees),
        pass_env=frozenset(given),
        image=choice.image,
        on_network=on_network,
    )
