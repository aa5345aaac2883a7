"""The one settings object and how it is read. Sources, strongest first: arguments, `PADDOCK_*`
env vars, `paddock.toml` in the data dir, defaults.

Users name a setting by its flat name (`PADDOCK_SANDBOX_NETWORK`, `sandbox_network = "host"`,
`Settings(sandbox_network=...)`); code reads it in its group (`settings.sandbox.network`;
docs/decisions/014-settings-groups.md). `FLAT_NAMES` is the one table between the two."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from pydantic import BaseModel, Field, create_model, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from paddock.config.groups import (
    AgentSettings,
    ArtifactSettings,
    BuilderSettings,
    ClusterSettings,
    FlagSettings,
    GitSettings,
    PreviewSettings,
    ProcessSettings,
    ReportSettings,
    SandboxSettings,
    ServerSettings,
    StorageSettings,
    UiSettings,
    default_data_dir,
)

SETTINGS_FILE = "paddock.toml"


# flat name (the PADDOCK_* variable without its prefix, the paddock.toml key, the keyword)
#   -> (group, field). Names users already use never change: a new field gets a row here.
FLAT_NAMES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "host": ("server", "host"),
        "port": ("server", "port"),
        "token": ("server", "token"),
        "session_days": ("server", "session_days"),
        "allowed_hosts": ("server", "allowed_hosts"),
        "open_browser": ("server", "open_browser"),
        "log_level": ("server", "log_level"),
        "log_format": ("server", "log_format"),
        "sse_heartbeat_seconds": ("server", "sse_heartbeat_seconds"),
        "secret_key": ("server", "secret_key"),
        "data_dir": ("storage", "data_dir"),
        "database_url": ("storage", "database_url"),
        "worktrees_dir": ("storage", "worktrees_dir"),
        "demo": ("storage", "demo"),
        "stop_grace_seconds": ("processes", "stop_grace_seconds"),
        "interrupt_grace_seconds": ("processes", "interrupt_grace_seconds"),
        "log_flush_seconds": ("processes", "log_flush_seconds"),
        "log_flush_bytes": ("processes", "log_flush_bytes"),
        "max_line_bytes": ("processes", "max_line_bytes"),
        "sandbox_provider": ("sandbox", "provider"),
        "sandbox_network": ("sandbox", "network"),
        "sandbox_memory_mb": ("sandbox", "memory_mb"),
        "sandbox_swap_mb": ("sandbox", "swap_mb"),
        "sandbox_cpus": ("sandbox", "cpus"),
        "sandbox_pids": ("sandbox", "pids"),
        "sandbox_timeout_s": ("sandbox", "timeout_s"),
        "sandbox_tmp_mb": ("sandbox", "tmp_mb"),
        "sandbox_user": ("sandbox", "user"),
        "container_socket": ("sandbox", "container_socket"),
        "container_image": ("sandbox", "container_image"),
        "stats_interval_seconds": ("sandbox", "stats_interval_seconds"),
        "preview_ports": ("previews", "ports"),
        "preview_domain": ("previews", "domain"),
        "preview_public_port": ("previews", "public_port"),
        "preview_scheme": ("previews", "scheme"),
        "preview_ready_timeout_s": ("previews", "ready_timeout_s"),
        "preview_ready_path": ("previews", "ready_path"),
        "preview_ready_statuses": ("previews", "ready_statuses"),
        "preview_idle_minutes": ("previews", "idle_minutes"),
        "preview_ticket_seconds": ("previews", "ticket_seconds"),
        "preview_postgres_url": ("previews", "postgres_url"),
        "preview_plane": ("previews", "plane"),
        "preview_plane_port": ("previews", "plane_port"),
        "preview_plane_slots": ("previews", "plane_slots"),
        "merge_strategy": ("git", "merge_strategy"),
        "merge_removes_worktree": ("git", "merge_removes_worktree"),
        "merge_deletes_branch": ("git", "merge_deletes_branch"),
        "branch_template": ("git", "branch_template"),
        "autocommit_max_file_mb": ("git", "autocommit_max_file_mb"),
        "worktree_warn_mb": ("git", "worktree_warn_mb"),
        "diff_watch_seconds": ("git", "diff_watch_seconds"),
        "github_token": ("git", "github_token"),
        "github_api_url": ("git", "github_api_url"),
        "gitlab_token": ("git", "gitlab_token"),
        "gitlab_api_url": ("git", "gitlab_api_url"),
        "gitea_token": ("git", "gitea_token"),
        "gitea_api_url": ("git", "gitea_api_url"),
        "pr_poll_seconds": ("git", "pr_poll_seconds"),
        "agents_dir": ("agents", "dir"),
        "anthropic_api_key": ("agents", "anthropic_api_key"),
        "anthropic_base_url": ("agents", "anthropic_base_url"),
        "openai_api_key": ("agents", "openai_api_key"),
        "openai_base_url": ("agents", "openai_base_url"),
        "gemini_api_key": ("agents", "gemini_api_key"),
        "gemini_base_url": ("agents", "gemini_base_url"),
        "artifact_max_mb": ("artifacts", "max_mb"),
        "artifact_max_files": ("artifacts", "max_files"),
        "artifact_retention_days": ("artifacts", "retention_days"),
        "report_max_mb": ("reports", "max_mb"),
        "report_max_cases": ("reports", "max_cases"),
        "editor": ("ui", "editor"),
        "builder_planner": ("builder", "planner"),
        "builder_anthropic_model": ("builder", "anthropic_model"),
        "builder_openai_model": ("builder", "openai_model"),
        "builder_planner_timeout_s": ("builder", "planner_timeout_s"),
        "builder_agent": ("builder", "agent"),
        "builder_max_builds": ("builder", "max_builds"),
        "builder_screenshot": ("builder", "screenshot"),
        "builder_tier": ("builder", "tier"),
        "builder_tiers": ("builder", "tiers"),
        "features": ("flags", "features"),
        "cluster_redis_url": ("cluster", "redis_url"),
    }
)


class Settings(BaseSettings):
    # Flat names are extra keys to pydantic: `_regroup` moves them into their groups. Unknown
    # names (a typo in paddock.toml, a PADDOCK_* variable of something else) are ignored.
    model_config = SettingsConfigDict(env_prefix="PADDOCK_", extra="ignore")

    server: ServerSettings = Field(default_factory=ServerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    processes: ProcessSettings = Field(default_factory=ProcessSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    previews: PreviewSettings = Field(default_factory=PreviewSettings)
    git: GitSettings = Field(default_factory=GitSettings)
    agents: AgentSettings = Field(default_factory=AgentSettings)
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    builder: BuilderSettings = Field(default_factory=BuilderSettings)
    flags: FlagSettings = Field(default_factory=FlagSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)

    @model_validator(mode="before")
    @classmethod
    def _regroup(cls, data: Any) -> Any:
        return regroup(data) if isinstance(data, Mapping) else data

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        if self.agents.dir is None:
            self.agents.dir = self.storage.data_dir / "agents"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Env and file speak flat names: they read the flat view; `_regroup` sorts them.
        return (init_settings, EnvSettingsSource(FLAT_VIEW), _DataDirToml(FLAT_VIEW))


def regroup(values: Mapping[str, Any]) -> dict[str, Any]:
    """Flat names into their groups; other keys pass as they are. A group given whole (a dict or
    a model, from code) wins over flat names of its fields, field by field."""
    grouped: dict[str, Any] = {k: v for k, v in values.items() if k not in FLAT_NAMES}
    flat: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        if name in FLAT_NAMES:
            group, field = FLAT_NAMES[name]
            flat.setdefault(group, {})[field] = value
    for group, fields in flat.items():
        given = grouped.get(group)
        if isinstance(given, BaseModel):
            given = given.model_dump(exclude_unset=True)
        grouped[group] = {**fields, **(given or {})}
    return grouped


def group_field(group: str, field: str) -> FieldInfo:
    """The field a flat name stands for."""
    model = Settings.model_fields[group].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return model.model_fields[field]


def _flat_field(group: str, field: str) -> tuple[Any, FieldInfo]:
    info = group_field(group, field)
    return info.annotation, info


class _FlatNames(BaseSettings):
    """What users see: every setting under its flat name. Only read by the sources, which take
    their variable names, file keys and parsing (JSON for lists) from its fields."""

    model_config = Settings.model_config


FLAT_VIEW: Final[type[_FlatNames]] = create_model(
    "FlatSettings",
    __base__=_FlatNames,
    **{name: _flat_field(*where) for name, where in FLAT_NAMES.items()},  # type: ignore[call-overload]
)


class _DataDirToml(PydanticBaseSettingsSource):
    """Reads `paddock.toml` from whichever data dir the stronger sources chose."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        storage = regroup(self.current_state).get("storage")
        if isinstance(storage, StorageSettings):
            storage = storage.model_dump(exclude_unset=True)
        chosen = (storage or {}).get("data_dir")
        data_dir = Path(chosen).expanduser() if chosen else default_data_dir()
        path = data_dir / SETTINGS_FILE
        if not path.is_file():
            return {}
        with path.open("rb") as fh:
            values = tomllib.load(fh)
        return {k: v for k, v in values.items() if k in self.settings_cls.model_fields}
