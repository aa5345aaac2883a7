"""An attempt's worktree: where it goes, the sandbox it runs in, and making it (the branch's
own .paddock.toml applied, copy_files brought in), with nothing half-made left on failure."""

from __future__ import annotations

import glob
import logging
from dataclasses import replace
from pathlib import Path

import anyio.to_thread
from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Project, Scripts
from paddock.domain.errors import InvalidInput, PaddockError
from paddock.domain.events import EventType
from paddock.domain.names import short_id, slugify
from paddock.domain.project_config import (
    CONFIG_FILE,
    MAX_CONFIG_BYTES,
    RepoConfig,
    effective_scripts,
    parse_repo_config,
)
from paddock.domain.sandbox import Network, Provider, SandboxConfig
from paddock.domain.states import AttemptStatus
from paddock.runtime import git, safefs
from paddock.runtime.git import worktrees
from paddock.services.context import Context
from paddock.store import attempts as store
from paddock.store import projects as project_store

log = logging.getLogger("paddock")


def copy_into_worktree(repo: Path, worktree: Path, patterns: list[str]) -> list[str]:
    """Copy files matching `patterns` (e.g. `.env`) from the main checkout; never from outside.
    The worktree was checked out from a branch an agent wrote: the copy goes through no link
    there (safefs), and a link where a file goes is refused (UnsafePath)."""
    copied = []
    root = repo.resolve()
    for pattern in patterns:
        for match in glob.glob(pattern, root_dir=root, recursive=True, include_hidden=True):
            source = (root / match).resolve()
            if not source.is_file() or not source.is_relative_to(root):
                continue
            relative = source.relative_to(root).as_posix()
            try:
                safefs.copy_in(source, worktree, relative)
            except safefs.UnsafePath as exc:
                raise safefs.UnsafePath(
                    f"copy_files: cannot copy {match} into the worktree: {exc.message}",
                    **exc.details,
                ) from None
            copied.append(match)
    return copied


def read_repo_config(worktree: Path) -> RepoConfig | None:
    """The worktree's own .paddock.toml (None without one), read through no link."""
    try:
        data = safefs.read_bytes(worktree, CONFIG_FILE, limit=MAX_CONFIG_BYTES)
    except FileNotFoundError:
        return None
    return parse_repo_config(data.decode(errors="replace"))


def configure_worktree(project: Project, worktree: Path) -> Scripts:
    """Apply the branch's own .paddock.toml (a branch can change its scripts) and copy the
    copy_files globs in from the main checkout. Returns the attempt's scripts."""
    repo_config = read_repo_config(worktree)
    patterns = project.copy_files
    if repo_config and repo_config.copy_files is not None:
        patterns = repo_config.copy_files
    copy_into_worktree(Path(project.repo_path), worktree, patterns)
    return effective_scripts(project.scripts, repo_config)


async def attempt_worktree(ctx: Context, attempt: Attempt) -> git.Worktree:
    """The attempt's worktree as Paddock's own git must name it (see git.Worktree)."""
    project = await ctx.db.run(lambda s: project_store.get_project(s, attempt.project_id))
    return await anyio.to_thread.run_sync(
        worktrees.linked, project.repo_path, attempt.worktree_path
    )


class AttemptWorktrees:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def choose_sandbox(self, requested: SandboxConfig, project: Project) -> SandboxConfig:
        """The attempt's sandbox: the request over the project's choice over the settings,
        with the provider resolved (so the attempt keeps it). Refused when it cannot run."""
        chosen = requested.over(project.sandbox)
        provider = self.ctx.sandboxes.resolve(chosen.provider)
        problem = self.ctx.sandboxes.problem(provider)
        if problem is not None:
            raise InvalidInput(
                f"sandbox provider {provider.value} cannot run here: {problem}",
                code="sandbox_unavailable",
            )
        network = chosen.network or self._default_network(provider)
        problem = self.ctx.sandboxes.network_problem(provider, network)
        if problem is not None:
            raise InvalidInput(
                f"network {network.value} cannot run here: {problem}",
                code="sandbox_unavailable",
            )
        return SandboxConfig(provider, network, chosen.limits, chosen.image)

    def _default_network(self, provider: Provider) -> Network:
        """The settings' network. Where that is the default, `private`, and it cannot run
        (Paddock not run by root, no slirp4netns): `host`, as provider `auto` falls back, so
        an attempt nobody chose a network for still runs; `paddock doctor` says what it gave
        up. A `private` that was asked for is refused instead."""
        settings = self.ctx.settings
        network = settings.sandbox.network
        if network is Network.private and "network" not in settings.sandbox.model_fields_set:
            problem = self.ctx.sandboxes.network_problem(provider, network)
            if problem is not None:
                log.warning("network private cannot run here (%s): using host", problem)
                return Network.host
        return network

    def path_for(self, project: Project, branch: str) -> Path:
        group = f"{slugify(project.name)}-{short_id(project.id)}"
        return self.ctx.settings.storage.worktrees / group / branch.rsplit("/", 1)[-1]

    async def add(self, project: Project, attempt: Attempt, *, setup: bool = True) -> Attempt:
        """Make the worktree (the branch's own .paddock.toml applied, copy_files brought in).
        Returns the attempt as `record` is to store it: its base commit, its scripts and its
        first step (`setting_up` or `running`; never `setting_up` without `setup`)."""
        repo = Path(project.repo_path)
        worktree = Path(attempt.worktree_path)
        worktree.parent.mkdir(parents=True, exist_ok=True)
        async with git.repo_lock(repo):
            base_commit = await worktrees.add_worktree(
                repo, worktree, attempt.branch, attempt.base_branch
            )
        try:
            scripts = configure_worktree(project, worktree)
            if attempt.sandbox.provider is not None and attempt.sandbox.provider != "none":
                await anyio.to_thread.run_sync(self.ctx.sandboxes.hand_over, worktree)
        except PaddockError:  # e.g. a bad .paddock.toml: leave nothing half-made behind
            async with git.repo_lock(repo):
                await worktrees.remove_worktree(repo, worktree)
                await git.delete_branch(repo, attempt.branch, force=True)
            raise
        first = (
            AttemptStatus.setting_up if setup and scripts.setup.strip() else AttemptStatus.running
        )
        return replace(attempt, base_commit=base_commit, scripts=scripts, status=first)

    async def record(self, project_id: str, made: Attempt) -> Attempt:
        """Store what `add` made (base commit, scripts, first step) in one transaction, and
        say so."""

        def record(session: Session) -> Attempt:
            store.update_attempt(
                session, made.id, base_commit=made.base_commit, scripts=made.scripts
            )
            return store.set_attempt_status(session, made.id, made.status)

        attempt = await self.ctx.db.run(record)
        self.ctx.publish(EventType.attempt_updated, project_id, attempt)
        return attempt
