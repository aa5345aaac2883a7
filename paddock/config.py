"""One settings object. Sources, strongest first: arguments, `PADDOCK_*` env vars,
`paddock.toml` in the data dir, defaults."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from paddock.domain.merge import MergeStrategy
from paddock.domain.names import check_branch_template
from paddock.domain.sandbox import Limits, Network, SandboxConfig

SETTINGS_FILE = "paddock.toml"


def default_data_dir() -> Path:
    return Path(os.environ.get("PADDOCK_DATA_DIR") or platformdirs.user_data_dir("paddock"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PADDOCK_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""  # empty: a SQLite file in the data dir
    host: str = "127.0.0.1"
    port: int = 7420
    # Access (docs/security.md): the API token; None: made at the first start and kept in
    # <data_dir>/token. Every request needs it (Bearer) or a session cookie made from it.
    token: SecretStr | None = None
    session_days: float = 30.0  # how long a browser stays signed in
    # Host names the UI and API answer to besides loopback names and IP addresses (a DNS name
    # in any other Host header is refused: DNS rebinding). Previews answer on *.preview_domain.
    allowed_hosts: list[str] = Field(default_factory=list)
    open_browser: bool = True  # `paddock serve` opens the signed-in URL where a desktop exists
    worktrees_dir: Path | None = None  # None: <data_dir>/worktrees
    log_level: str = "info"
    stop_grace_seconds: float = 5.0
    # A stopped agent first gets its CLI's own interrupt (e.g. SIGINT) and this long to finish.
    interrupt_grace_seconds: float = 3.0
    # Log batches are written when either bound is reached, whichever comes first.
    log_flush_seconds: float = 0.05
    log_flush_bytes: int = 1 << 20
    max_line_bytes: int = 1 << 20
    demo: bool = True  # create the demo project on a first start with an empty data dir
    sse_heartbeat_seconds: float = 15.0
    agents_dir: Path | None = None  # None: <data_dir>/agents (CLIs `paddock agents install` adds)
    # Model API access for the agent CLIs: point them at gateways or local model servers.
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None
    # Container sandbox: the Docker Engine API (Docker, or Podman's compatible service) as a
    # DOCKER_HOST-style URL; None: $DOCKER_HOST, else /run/podman/podman.sock, else
    # /var/run/docker.sock. The image runs when a project names none (scripts/install builds it).
    container_socket: str | None = None
    container_image: str = "paddock-base:bookworm"

    # Sandboxes (docs/sandboxes.md): the defaults a project, then an attempt, may override.
    # auto (bwrap on Linux when it works, else none) | none | bwrap | container
    sandbox_provider: str = "auto"
    # private: own network namespace, outbound through slirp4netns, never the host's loopback
    # (Paddock's API included) | none: loopback only | host: the host's network (dangerous)
    sandbox_network: Network = Network.private
    sandbox_memory_mb: int | None = 8192
    sandbox_swap_mb: int | None = 0
    sandbox_cpus: float | None = None
    sandbox_pids: int | None = 4096
    sandbox_timeout_s: float | None = None
    sandbox_tmp_mb: int = 512  # the size of a sandbox's private /tmp
    sandbox_user: str = "paddock-sandbox"  # who sandboxes run as when Paddock runs as root
    stats_interval_seconds: float = 1.0  # how often a running process's resource use is sampled
    # Previews: dev servers get ports from this range; the proxy serves each at
    # <host>.<preview_domain>:<preview_public_port or port>.
    # What a merge does unless it is told otherwise.
    merge_strategy: MergeStrategy = MergeStrategy.squash
    merge_removes_worktree: bool = False
    merge_deletes_branch: bool = False
    # Auto-commit (docs/security.md): a file larger than this is never committed (nor hashed
    # into the repository's object store); the turn lists it as left out. 0: no limit.
    autocommit_max_file_mb: float = 10.0
    # Warn (attempt page, API `worktree_bytes`) when a worktree uses more than this at the end of
    # a turn. A warning, not a quota: nothing stops an agent from filling the disk. 0: never.
    worktree_warn_mb: float = 1024.0
    # Pull requests: a forge's CLI (gh, glab) when signed in, else its REST API with a token.
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    gitlab_token: SecretStr | None = None
    gitlab_api_url: str | None = None  # None: https://<the remote's host>/api/v4
    gitea_token: SecretStr | None = None
    gitea_api_url: str | None = None  # None: https://<the remote's host>/api/v1
    pr_poll_seconds: float = 300.0  # how often open pull requests are looked at
    # New attempts' branches: {id} (the attempt's short id) and {title} (the task's, slugified).
    branch_template: str = "paddock/{id}-{title}"
    diff_watch_seconds: float = 1.5  # how often a watched attempt's worktree is checked for changes
    preview_ports: str = "42000-42999"
    preview_domain: str = "preview.localhost"
    preview_public_port: int | None = None  # the port browsers use (a front proxy's); None: port
    preview_scheme: str = "http"
    preview_ready_timeout_s: float = 120.0
    preview_ready_path: str = "/"
    preview_ready_statuses: list[int] = Field(default_factory=list)  # empty: any answer
    preview_idle_minutes: float = 60.0  # stop a preview this long after its last request; 0: never
    preview_ticket_seconds: float = 120.0  # how long an Open link's one-time ticket is valid
    preview_postgres_url: str = ""  # where per-attempt schemas go; empty: database_url if PG
    # Artifacts (docs/tests.md): what one process may leave, and how long it is kept (0: ever).
    artifact_max_mb: int = 1024
    artifact_max_files: int = 2000
    artifact_retention_days: float = 30.0
    # Reports the server parses (JUnit, OpenAPI specs; docs/tests.md): one file's size, and the
    # test cases of one run. Past either, the run (or the spec) fails with `report_too_large`.
    report_max_mb: int = Field(16, ge=1)
    report_max_cases: int = Field(50_000, ge=1)
    # Signs preview cookies; empty: a random key kept in <data_dir>/secret.key. Servers sharing
    # one database must share it.
    secret_key: SecretStr | None = None

    @field_validator("branch_template")
    @classmethod
    def _valid_branch_template(cls, value: str) -> str:
        return check_branch_template(value)

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'paddock.db'}"
        if self.worktrees_dir is None:
            self.worktrees_dir = self.data_dir / "worktrees"
        if self.agents_dir is None:
            self.agents_dir = self.data_dir / "agents"
        return self

    @property
    def sandbox_defaults(self) -> SandboxConfig:
        return SandboxConfig(
            provider=None,  # resolved by the engine: "auto" depends on the machine
            network=self.sandbox_network,
            limits=Limits(
                memory_mb=self.sandbox_memory_mb,
                swap_mb=self.sandbox_swap_mb,
                cpus=self.sandbox_cpus,
                pids=self.sandbox_pids,
                timeout_s=self.sandbox_timeout_s,
            ),
        )

    @property
    def worktrees(self) -> Path:
        assert self.worktrees_dir is not None
        return self.worktrees_dir

    @property
    def agents(self) -> Path:
        assert self.agents_dir is not None
        return self.agents_dir

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _DataDirToml(settings_cls))


class _DataDirToml(PydanticBaseSettingsSource):
    """Reads `paddock.toml` from whichever data dir the stronger sources chose."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        chosen = self.current_state.get("data_dir")
        data_dir = Path(chosen).expanduser() if chosen else default_data_dir()
        path = data_dir / SETTINGS_FILE
        if not path.is_file():
            return {}
        with path.open("rb") as fh:
            values = tomllib.load(fh)
        return {k: v for k, v in values.items() if k in self.settings_cls.model_fields}
