"""The groups of settings, one model per concern. Users never name a group: they set a field
by its flat name (`FLAT_NAMES` in settings.py); code reads it in its group
(`settings.sandbox.network`)."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from paddock.domain.editor import Editor
from paddock.domain.features import check_overrides, enabled
from paddock.domain.merge import MergeStrategy
from paddock.domain.names import check_branch_template
from paddock.domain.sandbox import Limits, Network, SandboxConfig


def default_data_dir() -> Path:
    return Path(os.environ.get("PADDOCK_DATA_DIR") or platformdirs.user_data_dir("paddock"))


class _Group(BaseModel):
    # Only code builds a group by hand (users go through flat names): a typo there is a bug.
    model_config = ConfigDict(extra="forbid")


class LogFormat(StrEnum):
    """How the server writes its log: lines for a terminal, or a JSON object per line."""

    text = "text"
    json = "json"


class ServerSettings(_Group):
    """Where the server listens, who may call it and how it talks to browsers."""

    host: str = "127.0.0.1"
    port: int = 7420
    # Access (docs/security.md): the API token; None: made at the first start and kept in
    # <data_dir>/token. Every request needs it (Bearer) or a session cookie made from it.
    token: SecretStr | None = None
    session_days: float = 30.0  # how long a browser stays signed in
    # Host names the UI and API answer to besides loopback names and IP addresses (a DNS name
    # in any other Host header is refused: DNS rebinding). Previews answer on *.previews.domain.
    allowed_hosts: list[str] = Field(default_factory=list)
    open_browser: bool = True  # `paddock serve` opens the signed-in URL where a desktop exists
    log_level: str = "info"
    # "json": one JSON object per log line, with the request id (docs/reliability.md).
    log_format: LogFormat = LogFormat.text
    sse_heartbeat_seconds: float = 15.0
    # Signs preview cookies; empty: a random key kept in <data_dir>/secret.key. Servers sharing
    # one database must share it.
    secret_key: SecretStr | None = None


class StorageSettings(_Group):
    """Where Paddock keeps its data, and what a fresh data dir starts with."""

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""  # empty: a SQLite file in the data dir
    worktrees_dir: Path | None = None  # None: <data_dir>/worktrees
    demo: bool = True  # create the demo project on a first start with an empty data dir

    @model_validator(mode="after")
    def _fill_derived(self) -> StorageSettings:
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'paddock.db'}"
        if self.worktrees_dir is None:
            self.worktrees_dir = self.data_dir / "worktrees"
        return self

    @property
    def worktrees(self) -> Path:
        assert self.worktrees_dir is not None
        return self.worktrees_dir

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class ClusterSettings(_Group):
    """A team's Paddock on many machines (docs/scale-out.md, docs/decisions/022)."""

    # The Redis server the control-plane servers sharing one database carry their events
    # through (`redis://[user:password@]host:port/db`). None: one server, its events its own.
    redis_url: SecretStr | None = None


class ProcessSettings(_Group):
    """How supervised processes are stopped, and how their output is stored."""

    stop_grace_seconds: float = 5.0
    # A stopped agent first gets its CLI's own interrupt (e.g. SIGINT) and this long to finish.
    interrupt_grace_seconds: float = 3.0
    # Log batches are written when either bound is reached, whichever comes first.
    log_flush_seconds: float = 0.05
    log_flush_bytes: int = 1 << 20
    max_line_bytes: int = 1 << 20


class SandboxSettings(_Group):
    """Sandboxes (docs/sandboxes.md): the defaults a project, then an attempt, may override."""

    # auto (bwrap on Linux when it works, else none) | none | bwrap | container
    provider: str = "auto"
    # private: own network namespace, outbound through slirp4netns, never the host's loopback
    # (Paddock's API included) | none: loopback only | host: the host's network (dangerous)
    network: Network = Network.private
    memory_mb: int | None = 8192
    swap_mb: int | None = 0
    cpus: float | None = None
    pids: int | None = 4096
    timeout_s: float | None = None
    tmp_mb: int = 512  # the size of a sandbox's private /tmp
    user: str = "paddock-sandbox"  # who sandboxes run as when Paddock runs as root
    # Container sandbox: the Docker Engine API (Docker, or Podman's compatible service) as a
    # DOCKER_HOST-style URL; None: $DOCKER_HOST, else /run/podman/podman.sock, else
    # /var/run/docker.sock. The image runs when a project names none (scripts/install builds it).
    container_socket: str | None = None
    container_image: str = "paddock-base:bookworm"
    stats_interval_seconds: float = 1.0  # how often a running process's resource use is sampled

    @property
    def defaults(self) -> SandboxConfig:
        return SandboxConfig(
            provider=None,  # resolved by the engine: "auto" depends on the machine
            network=self.network,
            limits=Limits(
                memory_mb=self.memory_mb,
                swap_mb=self.swap_mb,
                cpus=self.cpus,
                pids=self.pids,
                timeout_s=self.timeout_s,
            ),
        )


class PreviewPlane(StrEnum):
    """What serves previews' requests (docs/decisions/018-a-native-preview-data-plane.md)."""

    auto = "auto"  # HAProxy when it is installed, else the server itself
    haproxy = "haproxy"  # HAProxy, or the server does not start
    in_process = "in_process"  # the server itself, on its own port


class PreviewSettings(_Group):
    """Previews: dev servers get ports from `ports`; each is served at <host>.<domain>:<port>,
    the port being `public_port`, else the data plane's, else the server's."""

    ports: str = "42000-42999"
    domain: str = "preview.localhost"
    public_port: int | None = None  # the port browsers use (a front proxy's); None: port
    scheme: str = "http"
    ready_timeout_s: float = 120.0
    ready_path: str = "/"
    ready_statuses: list[int] = Field(default_factory=list)  # empty: any answer
    idle_minutes: float = 60.0  # stop a preview this long after its last request; 0: never
    ticket_seconds: float = 120.0  # how long an Open link's one-time ticket is valid
    postgres_url: str = ""  # where per-attempt schemas go; empty: database_url if PG
    plane: PreviewPlane = PreviewPlane.auto
    plane_port: int | None = None  # HAProxy's port; None: the server's port + 1; 0: any free one
    plane_slots: int = Field(default=64, ge=1, le=4096)  # previews HAProxy serves at once
    _serving_port: int | None = PrivateAttr(default=None)  # the plane's, once it listens

    @property
    def serving_port(self) -> int | None:
        return self._serving_port

    @serving_port.setter
    def serving_port(self, port: int | None) -> None:
        self._serving_port = port


class GitSettings(_Group):
    """Branches, worktrees, merges and pull requests."""

    # What a merge does unless it is told otherwise.
    merge_strategy: MergeStrategy = MergeStrategy.squash
    merge_removes_worktree: bool = False
    merge_deletes_branch: bool = False
    # New attempts' branches: {id} (the attempt's short id) and {title} (the task's, slugified).
    branch_template: str = "paddock/{id}-{title}"
    # Auto-commit (docs/security.md): a file larger than this is never committed (nor hashed
    # into the repository's object store); the turn lists it as left out. 0: no limit.
    autocommit_max_file_mb: float = 10.0
    # Warn (attempt page, API `worktree_bytes`) when a worktree uses more than this at the end of
    # a turn. A warning, not a quota: nothing stops an agent from filling the disk. 0: never.
    worktree_warn_mb: float = 1024.0
    diff_watch_seconds: float = 1.5  # how often a watched attempt's worktree is checked for changes
    # Pull requests: a forge's CLI (gh, glab) when signed in, else its REST API with a token.
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    gitlab_token: SecretStr | None = None
    gitlab_api_url: str | None = None  # None: https://<the remote's host>/api/v4
    gitea_token: SecretStr | None = None
    gitea_api_url: str | None = None  # None: https://<the remote's host>/api/v1
    pr_poll_seconds: float = 300.0  # how often open pull requests are looked at

    @field_validator("branch_template")
    @classmethod
    def _valid_branch_template(cls, value: str) -> str:
        return check_branch_template(value)


class AgentSettings(_Group):
    """Where agent CLIs are installed, and the model APIs they are pointed at (gateways or
    local model servers)."""

    dir: Path | None = None  # None: <data_dir>/agents (CLIs `paddock agents install` adds)
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None

    @property
    def clis(self) -> Path:
        """The folder of installed agent CLIs."""
        assert self.dir is not None
        return self.dir


class PlannerChoice(StrEnum):
    """Who answers the builder's questions: `auto` takes a model API with a key set
    (Anthropic first, then OpenAI), else `offline` (fixed questions, no key needed)."""

    auto = "auto"
    offline = "offline"
    anthropic = "anthropic"
    openai = "openai"


class BuilderSettings(_Group):
    """The builder face (docs/builder.md): who answers the founder's questions, which agent
    writes the code, and how many builds run at once (more wait in a queue)."""

    planner: PlannerChoice = PlannerChoice.auto
    anthropic_model: str = "claude-sonnet-4-5"
    openai_model: str = "gpt-4o-mini"
    planner_timeout_s: float = Field(60.0, gt=0)
    # The agent profile new apps' builds use; "builder-demo" is scripted and calls no model.
    agent: str = "builder-demo"
    max_builds: int = Field(1, ge=1)  # builds running at once, over all apps
    screenshot: bool = True  # a Chromium screenshot of the home page at each build's checks
    # Iterations an app may have (its first build counts) by tier; `tier` is this server's.
    tier: str = "partner"
    tiers: dict[str, int] = Field(
        default_factory=lambda: {"starter": 3, "partner": 5, "studio": 10}
    )

    @field_validator("tiers")
    @classmethod
    def _positive_limits(cls, tiers: dict[str, int]) -> dict[str, int]:
        if not tiers:
            raise ValueError("name at least one tier")
        bad = [name for name, limit in tiers.items() if limit < 1]
        if bad:
            raise ValueError(f"a tier allows at least 1 iteration: {', '.join(bad)}")
        return tiers

    @model_validator(mode="after")
    def _known_tier(self) -> BuilderSettings:
        if self.tier not in self.tiers:
            raise ValueError(f"builder_tier {self.tier!r} is not one of {', '.join(self.tiers)}")
        return self

    @property
    def iteration_limit(self) -> int:
        return self.tiers[self.tier]


class FlagSettings(_Group):
    """Feature flags (domain/features.py): `features = {builder_chat = false}` in paddock.toml
    or PADDOCK_FEATURES='{"builder_chat": false}' switches one off for this data dir."""

    features: dict[str, bool] = Field(default_factory=dict)  # name -> on; unset: its default

    @field_validator("features")
    @classmethod
    def _known_features(cls, features: dict[str, bool]) -> dict[str, bool]:
        check_overrides(features)
        return features

    def enabled(self, name: str) -> bool:
        return enabled(name, self.features)


class ArtifactSettings(_Group):
    """Artifacts (docs/tests.md): what one process may leave, and how long it is kept (0: ever)."""

    max_mb: int = 1024
    max_files: int = 2000
    retention_days: float = 30.0


class ReportSettings(_Group):
    """Reports the server parses (JUnit, OpenAPI specs; docs/tests.md): one file's size, and the
    test cases of one run. Past either, the run (or the spec) fails with `report_too_large`."""

    max_mb: int = Field(16, ge=1)
    max_cases: int = Field(50_000, ge=1)


class UiSettings(_Group):
    """What the UI hands to programs on the user's desktop."""

    # Where an attempt's "Open in editor" goes (domain/editor.py): vscode | cursor | none | a
    # link template with {path} | a command the server runs, e.g. "zed {path}".
    editor: str = "vscode"

    @field_validator("editor")
    @classmethod
    def _valid_editor(cls, value: str) -> str:
        Editor.of(value)
        return value
