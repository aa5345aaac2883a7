"""What registering, creating and changing a project takes (POST /api/projects, PATCH
/api/projects/{id}, and the UI's project forms)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from paddock.domain.entities import Scripts
from paddock.domain.preview import SERVICE_NAME
from paddock.inputs.sandbox import SandboxIn
from paddock.inputs.scalars import Flag
from paddock.inputs.text import (
    BRANCH_NAME,
    Trimmed,
    TrimmedLines,
    TrimmedOrNone,
    refused_blank,
)

MAX_PROJECT_NAME = 200  # services/projects.py's rule (`bad_name`)

ScriptName = Literal["setup", "dev", "cleanup", "unit_test", "e2e_test", "openapi"]


class ScriptsIn(BaseModel):
    setup: Trimmed = ""
    dev: Trimmed = ""
    cleanup: Trimmed = ""
    unit_test: Trimmed = ""
    e2e_test: Trimmed = ""
    openapi: Trimmed = ""

    def to_scripts(self) -> Scripts:
        return Scripts(**self.model_dump())


class ProjectCreate(BaseModel):
    path: str = Field(
        description="Absolute path of an existing git repository, or of a new one "
        "(spaces around it dropped, a leading ~ expanded)",
        # domain/paths.py's check_repo_path (`path_not_absolute`, `bad_path`)
        json_schema_extra={"pattern": r"^\s*(/|~/|~\s*$)[^\x00]*$"},
    )
    name: TrimmedOrNone = Field(
        default=None,
        description="Blank: the folder name",
        json_schema_extra={"maxLength": MAX_PROJECT_NAME},
    )
    create: Flag = Field(default=False, description="Create a new repository at `path`")
    scripts: ScriptsIn = Field(default_factory=ScriptsIn)
    copy_files: TrimmedLines = Field(
        default_factory=list,
        description="Globs copied from the main checkout into each new worktree, e.g. .env",
    )
    sandbox: SandboxIn = Field(
        default_factory=SandboxIn, description="What the project's attempts run in"
    )

    def arguments(self) -> dict[str, Any]:
        """Besides the path, as ProjectService.register and .create_repository take them."""
        return {
            "name": self.name,
            "scripts": self.scripts.to_scripts(),
            "copy_files": self.copy_files,
            "sandbox": self.sandbox.to_config(),
        }


class ProjectUpdate(BaseModel):
    name: Trimmed | None = Field(None, json_schema_extra=refused_blank(MAX_PROJECT_NAME))
    default_branch: Trimmed | None = Field(None, json_schema_extra=BRANCH_NAME)
    scripts: dict[ScriptName, Trimmed] | None = Field(
        default=None, description="The scripts sent change; the others stay"
    )
    copy_files: TrimmedLines | None = None
    auto_commit: Flag | None = Field(
        default=None, description="Commit the worktree after each agent turn"
    )
    sandbox: SandboxIn | None = Field(
        default=None, description="Replaces the project's sandbox choice (new attempts)"
    )
    services: dict[Trimmed, Trimmed] | None = Field(
        default=None,
        description="Dev services besides the dev script (`web`), {name: command}; each gets "
        "its own port and preview host",
        # domain/preview.py's rule (`bad_service_name`), spaces around a name dropped
        json_schema_extra={"propertyNames": {"pattern": rf"^\s*{SERVICE_NAME.pattern[1:-1]}\s*$"}},
    )
    database: Literal["none", "sqlite", "postgres"] | None = Field(
        default=None, description="The database each attempt's preview gets as DATABASE_URL"
    )
    card_flow: Flag | None = Field(
        default=None,
        description="Move cards by themselves: to the in-progress step when an attempt "
        "starts, to the review step when the agent's turn ends",
    )
    auto_preview: Flag | None = Field(
        default=None, description="Start the attempt's preview when the agent's turn ends"
    )
    agent_channel: Flag | None = Field(
        default=None,
        description="Offer each attempt's agent its MCP channel to Paddock (read its own task "
        "and attempt, propose tasks, report progress); from the agent's next turn",
    )

    def changes(self) -> dict[str, Any]:
        """The fields sent, as ProjectService.update takes them."""
        changes = self.model_dump(exclude_unset=True, exclude={"sandbox"})
        if self.sandbox is not None:
            changes["sandbox"] = self.sandbox.to_config()
        return changes
