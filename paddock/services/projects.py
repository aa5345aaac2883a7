"""Projects: register an existing repository or create a new one; scripts and settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Project, Scripts
from paddock.domain.errors import Conflict, InvalidInput, PaddockError
from paddock.domain.events import Deleted, EventType
from paddock.domain.names import is_valid_branch_name
from paddock.domain.paths import check_repo_path
from paddock.domain.preview import check_service_name
from paddock.domain.project_config import follow_project
from paddock.domain.sandbox import SandboxConfig
from paddock.domain.states import AttemptStatus
from paddock.runtime import git
from paddock.services.context import Context
from paddock.services.previews.preview_database import check_database
from paddock.store import attempts as attempt_store
from paddock.store import projects as store
from paddock.store import tasks as task_store


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a project name needs 1 to 200 characters", code="bad_name")
    return name


def _missing_or_empty(path: Path) -> bool:
    try:
        return not path.exists() or (path.is_dir() and not any(path.iterdir()))
    except OSError:  # unreadable: neither registrable nor creatable
        return False


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    project: Project
    tasks: int


@dataclass(frozen=True, slots=True)
class PathCheck:
    """What registering `path` would do, for a form that checks as the user types."""

    path: str
    ok: bool  # an existing repository that can be registered as it is
    code: str  # "repository", or the error code registering would fail with
    message: str
    can_create: bool  # a new repository could be created here instead
    default_branch: str | None = None


def _follow_scripts(
    session: Session, project_id: str, before: Scripts, after: Scripts
) -> list[Attempt]:
    """The project's scripts changed: its existing attempts take the new ones, except those
    their branch's .paddock.toml set (domain/project_config.py's `follow_project`). Running
    processes keep the command they started with; the next run uses the new one."""
    if before == after:
        return []
    changed = []
    for attempt in attempt_store.list_attempts(session, project_id=project_id):
        scripts = follow_project(attempt.scripts, before, after)
        if scripts != attempt.scripts:
            changed.append(attempt_store.update_attempt(session, attempt.id, scripts=scripts))
    return changed


class ProjectService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def check_path(self, path: str) -> PathCheck:
        """Would `path` register (an existing repository) or be created (new, or empty)?"""
        try:
            target = Path(check_repo_path(os.path.expanduser(path.strip())))
        except InvalidInput as exc:
            return PathCheck(path, False, exc.code, exc.message, False)
        empty = _missing_or_empty(target)
        try:
            info = await git.inspect_repo(target)
        except PaddockError as exc:
            return PathCheck(path, False, exc.code, exc.message, empty)
        known = await self.ctx.db.run(
            lambda s: store.find_project(s, repo_path=str(info.top_level))
        )
        if known is not None:
            message = f"already the project {known.name!r}"
            return PathCheck(path, False, "project_exists", message, False, info.default_branch)
        message = f"git repository on branch {info.default_branch}"
        return PathCheck(path, True, "repository", message, False, info.default_branch)

    async def register(
        self,
        path: str,
        *,
        name: str | None = None,
        scripts: Scripts | None = None,
        copy_files: list[str] | None = None,
        sandbox: SandboxConfig | None = None,
    ) -> Project:
        """Register an existing git repository (its main checkout) by path."""
        info = await git.inspect_repo(check_repo_path(os.path.expanduser(path.strip())))
        return await self._create(info, name, scripts, copy_files, sandbox)

    async def create_repository(
        self,
        path: str,
        *,
        name: str | None = None,
        scripts: Scripts | None = None,
        copy_files: list[str] | None = None,
        files: dict[str, str] | None = None,
        sandbox: SandboxConfig | None = None,
    ) -> Project:
        """Create a new repository with an initial commit and register it."""
        target = Path(check_repo_path(os.path.expanduser(path.strip())))
        if target.exists() and any(target.iterdir()):
            raise Conflict(f"{target} exists and is not empty", code="path_not_empty")
        readme = {"README.md": f"# {name or target.name}\n"}
        info = await git.init_repo(target, files=files or readme)
        return await self._create(info, name, scripts, copy_files, sandbox)

    async def _create(
        self,
        info: git.RepoInfo,
        name: str | None,
        scripts: Scripts | None,
        copy_files: list[str] | None,
        sandbox: SandboxConfig | None,
    ) -> Project:
        repo_path = str(info.top_level)
        project_name = _check_name(name or info.top_level.name)

        def create(session: Session) -> Project:
            if store.find_project(session, repo_path=repo_path):
                raise Conflict(f"{repo_path} is already a project", code="project_exists")
            if store.find_project(session, name=project_name):
                raise Conflict(
                    f"a project named {project_name!r} exists", code="project_name_taken"
                )
            return store.create_project(
                session,
                name=project_name,
                repo_path=repo_path,
                default_branch=info.default_branch,
                scripts=scripts or Scripts(),
                copy_files=copy_files or [],
                sandbox=sandbox,
            )

        project = await self.ctx.db.run(create)
        self.ctx.publish(EventType.project_created, project.id, project)
        return project

    async def get(self, project_id: str) -> Project:
        return await self.ctx.db.run(lambda s: store.get_project(s, project_id))

    async def list_all(self) -> list[Project]:
        return await self.ctx.db.run(store.list_projects)

    async def summaries(self) -> list[ProjectSummary]:
        """Every project with its number of tasks, for the project list."""

        def load(session: Session) -> list[ProjectSummary]:
            counts = task_store.count_by_project(session)
            return [ProjectSummary(p, counts.get(p.id, 0)) for p in store.list_projects(session)]

        return await self.ctx.db.run(load)

    async def branches(self, project_id: str) -> list[str]:
        project = await self.get(project_id)
        return await git.list_branches(Path(project.repo_path))

    async def update(
        self,
        project_id: str,
        *,
        name: str | None = None,
        default_branch: str | None = None,
        scripts: dict[str, str] | None = None,
        copy_files: list[str] | None = None,
        auto_commit: bool | None = None,
        sandbox: SandboxConfig | None = None,
        services: dict[str, str] | None = None,
        database: str | None = None,
        card_flow: bool | None = None,
        auto_preview: bool | None = None,
        agent_channel: bool | None = None,
    ) -> Project:
        project = await self.get(project_id)
        for service in services or {}:
            check_service_name(service)
        if database is not None:
            check_database(database)
        if default_branch is not None and not (
            # not a branch name (a NUL, a space): no such branch, and nothing to ask git
            is_valid_branch_name(default_branch)
            and await git.branch_exists(Path(project.repo_path), default_branch)
        ):
            raise InvalidInput(
                f"no branch {default_branch!r} in {project.repo_path}", code="unknown_branch"
            )

        def update(session: Session) -> tuple[Project, list[Attempt]]:
            if name is not None:
                other = store.find_project(session, name=_check_name(name))
                if other and other.id != project_id:
                    raise Conflict(f"a project named {name!r} exists", code="project_name_taken")
            before = store.get_project(session, project_id).scripts
            updated = store.update_project(
                session,
                project_id,
                name=name.strip() if name else None,
                default_branch=default_branch,
                scripts=scripts,
                copy_files=copy_files,
                auto_commit=auto_commit,
                sandbox=sandbox,
                services=services,
                database=database,
                card_flow=card_flow,
                auto_preview=auto_preview,
                agent_channel=agent_channel,
            )
            return updated, _follow_scripts(session, project_id, before, updated.scripts)

        project, followed = await self.ctx.db.run(update)
        self.ctx.publish(EventType.project_updated, project.id, project)
        for attempt in followed:
            self.ctx.publish(EventType.attempt_updated, project.id, attempt)
        return project

    async def delete(self, project_id: str) -> None:
        """Forget a project. Its repository stays; attempts must be deleted first."""
        await self.get(project_id)
        attempts = await self.ctx.db.run(
            lambda s: attempt_store.list_attempts(s, project_id=project_id)
        )
        live = [a for a in attempts if a.status is not AttemptStatus.vanished]
        if live:
            raise Conflict(
                f"the project has {len(live)} attempt(s); delete them first",
                code="project_has_attempts",
            )
        await self.ctx.db.run(lambda s: store.delete_project(s, project_id))
        self.ctx.publish(EventType.project_deleted, project_id, Deleted(project_id))
