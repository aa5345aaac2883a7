"""Settings: every flat name users know (env var, paddock.toml key, keyword) lands in its group."""

from __future__ import annotations

import enum
import json
import os
import types
import typing
from pathlib import Path
from typing import Any

import platformdirs
import pytest
from pydantic import SecretStr, ValidationError

from paddock.config import FLAT_NAMES, FLAT_VIEW, SandboxSettings, Settings, group_field
from paddock.domain.sandbox import Network

# The names users had before the settings were grouped (docs/configuration.md): none may go.
KNOWN_NAMES = [
    "data_dir",
    "database_url",
    "host",
    "port",
    "token",
    "session_days",
    "allowed_hosts",
    "open_browser",
    "worktrees_dir",
    "log_level",
    "log_format",  # issue 19: JSON logs
    "stop_grace_seconds",
    "interrupt_grace_seconds",
    "log_flush_seconds",
    "log_flush_bytes",
    "max_line_bytes",
    "demo",
    "sse_heartbeat_seconds",
    "agents_dir",
    "anthropic_api_key",
    "anthropic_base_url",
    "openai_api_key",
    "openai_base_url",
    "gemini_api_key",
    "gemini_base_url",
    "container_socket",
    "container_image",
    "sandbox_provider",
    "sandbox_network",
    "sandbox_memory_mb",
    "sandbox_swap_mb",
    "sandbox_cpus",
    "sandbox_pids",
    "sandbox_timeout_s",
    "sandbox_tmp_mb",
    "sandbox_user",
    "stats_interval_seconds",
    "merge_strategy",
    "merge_removes_worktree",
    "merge_deletes_branch",
    "autocommit_max_file_mb",
    "worktree_warn_mb",
    "github_token",
    "github_api_url",
    "gitlab_token",
    "gitlab_api_url",
    "gitea_token",
    "gitea_api_url",
    "pr_poll_seconds",
    "branch_template",
    "diff_watch_seconds",
    "preview_ports",
    "preview_domain",
    "preview_public_port",
    "preview_scheme",
    "preview_ready_timeout_s",
    "preview_ready_path",
    "preview_ready_statuses",
    "preview_idle_minutes",
    "preview_ticket_seconds",
    "preview_postgres_url",
    "preview_plane",
    "preview_plane_port",
    "preview_plane_slots",
    "artifact_max_mb",
    "artifact_max_files",
    "artifact_retention_days",
    "report_max_mb",
    "report_max_cases",
    "secret_key",
    "editor",  # issue 15: Open in editor
    "builder_planner",
    "builder_anthropic_model",
    "builder_openai_model",
    "builder_planner_timeout_s",
    "builder_agent",
    "builder_max_builds",
    "builder_screenshot",
    "builder_tier",
    "builder_tiers",
    "features",
    "cluster_redis_url",
]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No PADDOCK_* variable of the caller's, and a default data dir of the test's own."""
    for name in [n for n in os.environ if n.upper().startswith("PADDOCK_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "default-data"
    home.mkdir()
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *_a, **_k: str(home))
    return home


def _base_type(annotation: Any) -> Any:
    """`int | None` -> int; anything else as it is."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return inner
    return annotation


def sample(name: str, tmp_path: Path) -> Any:
    """A value for `name` that is valid and differs from its default (so reading it shows)."""
    field = group_field(*FLAT_NAMES[name])
    kind = _base_type(field.annotation)
    default = field.get_default(call_default_factory=True)
    if name == "branch_template":
        return "ai/{title}/{id}"
    if name == "builder_tier":
        return "studio"
    if name == "builder_tiers":
        return {"partner": 4, "solo": 2}
    if name == "features":
        return {"builder_chat": False}
    if kind is Path:
        return tmp_path / f"set-{name}"
    if kind is bool:
        return not default
    if kind is int:
        return 7
    if kind is float:
        return 2.5
    if kind is str or kind is SecretStr:
        return f"http://set.example/{name}"
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return next(member for member in kind if member != default)
    if kind == list[str]:
        return ["set.example"]
    if kind == list[int]:
        return [200, 204]
    raise AssertionError(f"no sample for {name}: {field.annotation}")  # a new type: add one


def as_text(value: Any) -> str:
    """How the value is written in an env var (JSON for lists and tables, as pydantic-settings
    reads)."""
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def as_toml(value: Any) -> str:
    if isinstance(value, dict):  # an inline table
        return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items()) + " }"
    if isinstance(value, enum.Enum):
        value = value.value
    return json.dumps(str(value) if isinstance(value, Path) else value)


def read(settings: Settings, name: str) -> Any:
    group, field = FLAT_NAMES[name]
    value = getattr(getattr(settings, group), field)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


def expected(name: str, value: Any) -> Any:
    if name == "data_dir":
        return value.resolve()  # the data dir is kept resolved
    return value


def test_no_name_users_know_is_lost_and_each_field_has_exactly_one() -> None:
    assert sorted(FLAT_NAMES) == sorted(KNOWN_NAMES)
    assert sorted(FLAT_VIEW.model_fields) == sorted(KNOWN_NAMES)
    fields = [
        (group, field)
        for group, info in Settings.model_fields.items()
        for field in typing.cast(Any, info.annotation).model_fields
    ]
    assert sorted(FLAT_NAMES.values()) == sorted(fields)
    # A field keeps its flat name, less its group's prefix: no two fields are swapped.
    prefixes = {
        "sandbox": "sandbox_",
        "previews": "preview_",
        "artifacts": "artifact_",
        "builder": "builder_",
    }
    prefixes |= {"reports": "report_", "agents": "agents_", "cluster": "cluster_"}
    for name, (group, field) in FLAT_NAMES.items():
        assert name in (field, prefixes.get(group, "") + field), name


@pytest.mark.parametrize("name", sorted(FLAT_NAMES))
def test_each_env_var_sets_its_grouped_field(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    value = sample(name, tmp_path)
    monkeypatch.setenv(f"PADDOCK_{name.upper()}", as_text(value))
    settings = Settings()
    assert read(settings, name) == expected(name, value)
    group, field = FLAT_NAMES[name]
    assert field in getattr(settings, group).model_fields_set


@pytest.mark.parametrize("name", sorted(FLAT_NAMES))
def test_each_toml_key_sets_its_grouped_field(name: str, isolated: Path, tmp_path: Path) -> None:
    value = sample(name, tmp_path)
    (isolated / "paddock.toml").write_text(f"{name} = {as_toml(value)}\n")
    assert read(Settings(), name) == expected(name, value)


@pytest.mark.parametrize("name", sorted(FLAT_NAMES))
def test_each_flat_keyword_sets_its_grouped_field(name: str, tmp_path: Path) -> None:
    value = sample(name, tmp_path)
    assert read(Settings(**{name: value}), name) == expected(name, value)


def test_secrets_stay_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = [
        n for n in FLAT_NAMES if _base_type(group_field(*FLAT_NAMES[n]).annotation) is SecretStr
    ]
    assert sorted(secrets) == sorted(
        [
            *("token", "secret_key", "anthropic_api_key", "openai_api_key", "gemini_api_key"),
            *("github_token", "gitlab_token", "gitea_token", "cluster_redis_url"),
        ]
    )
    for name in secrets:
        monkeypatch.setenv(f"PADDOCK_{name.upper()}", f"hush-{name}")
    settings = Settings()
    for name in secrets:
        group, field = FLAT_NAMES[name]
        assert isinstance(getattr(getattr(settings, group), field), SecretStr)
    assert "hush-" not in repr(settings) and "hush-" not in str(settings.model_dump())


def test_unknown_names_are_ignored_as_before(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    """A typo is not an error anywhere (as before the groups); nor does a group name become a
    new way in: `[sandbox]` in paddock.toml or PADDOCK_SANDBOX stay unknown names."""
    monkeypatch.setenv("PADDOCK_SANDBOX_NETWRK", "host")
    monkeypatch.setenv("PADDOCK_SANDBOX", '{"network": "host"}')
    monkeypatch.setenv("PADDOCK_NETWORK", "host")
    (isolated / "paddock.toml").write_text(
        'sandbox_netwrk = "host"\nnetwork = "host"\n[sandbox]\nnetwork = "host"\n'
    )
    settings = Settings(sandbox_netwrk="host")
    assert settings.sandbox.network is Network.private
    assert "network" not in settings.sandbox.model_fields_set


def test_arguments_beat_env_which_beats_the_file(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    (isolated / "paddock.toml").write_text("port = 1111\nhost = 'file'\nsandbox_pids = 3\n")
    monkeypatch.setenv("PADDOCK_PORT", "2222")
    monkeypatch.setenv("PADDOCK_HOST", "env")
    settings = Settings(port=3333)
    assert (settings.server.port, settings.server.host, settings.sandbox.pids) == (3333, "env", 3)


def test_the_file_is_read_from_the_data_dir_the_stronger_sources_chose(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, tmp_path: Path
) -> None:
    (isolated / "paddock.toml").write_text("port = 1111\n")
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    (chosen / "paddock.toml").write_text("port = 2222\n")
    assert Settings().server.port == 1111
    assert Settings(data_dir=chosen).server.port == 2222
    assert Settings(storage={"data_dir": chosen}).server.port == 2222
    monkeypatch.setenv("PADDOCK_DATA_DIR", str(chosen))
    assert Settings().server.port == 2222


def test_paths_derive_from_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    data = (tmp_path / "d").resolve()
    assert settings.storage.data_dir == data
    assert settings.storage.database_url == f"sqlite:///{data / 'paddock.db'}"
    assert settings.storage.is_sqlite
    assert settings.storage.worktrees == data / "worktrees"
    assert settings.agents.clis == data / "agents"
    given = Settings(data_dir=tmp_path, worktrees_dir=tmp_path / "w", agents_dir=tmp_path / "a")
    assert (given.storage.worktrees, given.agents.clis) == (tmp_path / "w", tmp_path / "a")
    assert not Settings(database_url="postgresql://h/db").storage.is_sqlite


def test_a_group_given_whole_wins_over_flat_names_field_by_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PADDOCK_SANDBOX_NETWORK", "none")
    monkeypatch.setenv("PADDOCK_SANDBOX_PIDS", "9")
    settings = Settings(sandbox={"network": "host"})
    assert (settings.sandbox.network, settings.sandbox.pids) == (Network.host, 9)
    settings = Settings(sandbox=SandboxSettings(cpus=1.5))
    assert (settings.sandbox.network, settings.sandbox.cpus) == (Network.none, 1.5)
    assert settings.sandbox.model_fields_set == {"network", "pids", "cpus"}
    with pytest.raises(ValidationError):
        Settings(sandbox={"netwrk": "host"})  # in code, a typo inside a group is a bug


def test_sandbox_defaults_come_from_the_sandbox_group() -> None:
    defaults = Settings(sandbox_network="none", sandbox_memory_mb=64, sandbox_cpus=0.5).sandbox
    config = defaults.defaults
    assert config.provider is None and config.network is Network.none
    assert (config.limits.memory_mb, config.limits.cpus, config.limits.pids) == (64, 0.5, 4096)


def test_limits_and_validators_still_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        Settings(report_max_mb=0)
    with pytest.raises(ValidationError):
        Settings(branch_template="no-id/{title}")
    monkeypatch.setenv("PADDOCK_BRANCH_TEMPLATE", "no-id/{title}")
    with pytest.raises(ValidationError):
        Settings()
