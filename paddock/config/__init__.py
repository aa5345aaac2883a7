"""Settings: one object in groups (`groups`), read from flat names users know (`settings`)."""

from paddock.config.groups import (
    AgentSettings,
    ArtifactSettings,
    BuilderSettings,
    GitSettings,
    LogFormat,
    PlannerChoice,
    PreviewSettings,
    ProcessSettings,
    ReportSettings,
    SandboxSettings,
    ServerSettings,
    StorageSettings,
    UiSettings,
    default_data_dir,
)
from paddock.config.settings import (
    FLAT_NAMES,
    FLAT_VIEW,
    SETTINGS_FILE,
    Settings,
    group_field,
    regroup,
)

__all__ = [
    "FLAT_NAMES",
    "FLAT_VIEW",
    "SETTINGS_FILE",
    "AgentSettings",
    "ArtifactSettings",
    "BuilderSettings",
    "GitSettings",
    "LogFormat",
    "PlannerChoice",
    "PreviewSettings",
    "ProcessSettings",
    "ReportSettings",
    "SandboxSettings",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "UiSettings",
    "default_data_dir",
    "group_field",
    "regroup",
]
