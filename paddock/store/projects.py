"""Projects and their workflow steps."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paddock.domain.entities import Project, Scripts
from paddock.domain.errors import NotFound
from paddock.domain.names import new_id
from paddock.domain.sandbox import SandboxConfig, parse_sandbox
from paddock.domain.workflow import DEFAULT_STEPS
from paddock.store.tables.projects import ProjectRow, StepRow

_SCRIPT_COLUMNS = {name: f"{name}_script" for name in asdict(Scripts())}


def to_project(row: ProjectRow) -> Project:
    scripts = Scripts(**{name: getattr(row, col) for name, col in _SCRIPT_COLUMNS.items()})
    return Project(
        id=row.id,
        name=row.name,
        repo_path=row.repo_path,
        default_branch=row.default_branch,
        scripts=scripts,
        copy_files=list(row.copy_files),
        created_at=row.created_at,
        updated_at=row.updated_at,
        auto_commit=row.auto_commit,
        sandbox=parse_sandbox(row.sandbox),
        services=dict(row.services),
        database=row.database,
        card_flow=row.card_flow,
        auto_preview=row.auto_preview,
        agent_channel=row.agent_channel,
    )


def create_project(
    session: Session,
    *,
    name: str,
    repo_path: str,
    default_branch: str,
    scripts: Scripts,
    copy_files: list[str],
    sandbox: SandboxConfig | None = None,
    services: dict[str, str] | None = None,
    database: str = "none",
) -> Project:
    row = ProjectRow(
        services=services or {},
        database=database,
        id=new_id(),
        name=name,
        repo_path=repo_path,
        default_branch=default_branch,
        copy_files=copy_files,
        sandbox=(sandbox or SandboxConfig()).to_json(),
        **{col: getattr(scripts, name) for name, col in _SCRIPT_COLUMNS.items()},
    )
    session.add(row)
    session.add_all(
        StepRow(
            id=new_id(),
            project_id=row.id,
            name=step,
            position=i,
            color=color,
            gate=[],
            role=role.value if role else None,
        )
        for i, (step, color, role) in enumerate(DEFAULT_STEPS)
    )
    session.flush()
    return to_project(row)


def _project_row(session: Session, project_id: str) -> ProjectRow:
    row = session.get(ProjectRow, project_id)
    if row is None:
        raise NotFound(f"no project {project_id}", code="project_not_found")
    return row


def get_project(session: Session, project_id: str) -> Project:
    return to_project(_project_row(session, project_id))


def find_project(
    session: Session, *, name: str | None = None, repo_path: str | None = None
) -> Project | None:
    query = select(ProjectRow)
    if name is not None:
        query = query.where(ProjectRow.name == name)
    if repo_path is not None:
        query = query.where(ProjectRow.repo_path == repo_path)
    row = session.scalars(query.limit(1)).first()
    return to_project(row) if row else None


def list_projects(session: Session) -> list[Project]:
    return [to_project(r) for r in session.scalars(select(ProjectRow).order_by(ProjectRow.name))]


def count_projects(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ProjectRow)) or 0


def update_project(
    session: Session,
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
    row = _project_row(session, project_id)
    if name is not None:
        row.name = name
    if default_branch is not None:
        row.default_branch = default_branch
    for script, value in (scripts or {}).items():
        setattr(row, _SCRIPT_COLUMNS[script], value)
    if copy_files is not None:
        row.copy_files = copy_files
    if auto_commit is not None:
        row.auto_commit = auto_commit
    if sandbox is not None:
        row.sandbox = sandbox.to_json()
    if services is not None:
        row.services = services
    if database is not None:
        row.database = database
    if card_flow is not None:
        row.card_flow = card_flow
    if auto_preview is not None:
        row.auto_preview = auto_preview
    if agent_channel is not None:
        row.agent_channel = agent_channel
    session.flush()
    return to_project(row)


def delete_project(session: Session, project_id: str) -> None:
    session.delete(_project_row(session, project_id))
