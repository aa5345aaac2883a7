"""The `.paddock.toml` a repository may carry: scripts and copy-files overriding the project's."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace

from paddock.domain.entities import Scripts
from paddock.domain.errors import InvalidInput
from paddock.domain.preview import check_service_name

CONFIG_FILE = ".paddock.toml"
MAX_CONFIG_BYTES = 256 * 1024  # a branch's .paddock.toml is read by the server: kept small
SCRIPT_NAMES = tuple(f.name for f in fields(Scripts))


@dataclass(frozen=True, slots=True)
class RepoConfig:
    scripts: dict[str, str]
    copy_files: list[str] | None
    services: dict[str, str] = field(default_factory=dict)  # dev services besides "web"


def parse_repo_config(text: str) -> RepoConfig:
    """Parse `.paddock.toml`. Unknown keys are refused so a typo does not silently do nothing."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            f"{CONFIG_FILE} is not valid TOML: {exc}", code="bad_repo_config"
        ) from exc
    unknown = set(data) - {"scripts", "copy_files", "services"}
    if unknown:
        raise InvalidInput(
            f"{CONFIG_FILE} has unknown keys: {', '.join(sorted(unknown))}", code="bad_repo_config"
        )
    scripts = data.get("scripts", {})
    if not isinstance(scripts, dict) or not all(isinstance(v, str) for v in scripts.values()):
        raise InvalidInput(
            f"[scripts] in {CONFIG_FILE} must map names to strings", code="bad_repo_config"
        )
    bad = set(scripts) - set(SCRIPT_NAMES)
    if bad:
        raise InvalidInput(
            f"{CONFIG_FILE} names unknown scripts: {', '.join(sorted(bad))} "
            f"(known: {', '.join(SCRIPT_NAMES)})",
            code="bad_repo_config",
        )
    copy_files = data.get("copy_files")
    if copy_files is not None and (
        not isinstance(copy_files, list) or not all(isinstance(g, str) for g in copy_files)
    ):
        raise InvalidInput(
            f"copy_files in {CONFIG_FILE} must be a list of globs", code="bad_repo_config"
        )
    services = data.get("services", {})
    if not isinstance(services, dict) or not all(isinstance(v, str) for v in services.values()):
        raise InvalidInput(
            f"[services] in {CONFIG_FILE} must map service names to commands",
            code="bad_repo_config",
        )
    for name in services:
        check_service_name(name)
    return RepoConfig(scripts=scripts, copy_files=copy_files, services=services)


def effective_scripts(project_scripts: Scripts, repo: RepoConfig | None) -> Scripts:
    if repo is None:
        return project_scripts
    return replace(project_scripts, **repo.scripts)


def follow_project(attempt: Scripts, before: Scripts, after: Scripts) -> Scripts:
    """An attempt's scripts once its project's changed from `before` to `after`: a script the
    attempt has from the project (the same as `before`) follows it; one its branch's
    .paddock.toml set (another) stays, as the file still wins."""
    changes = {
        name: getattr(after, name)
        for name in SCRIPT_NAMES
        if getattr(before, name) != getattr(after, name)
        and getattr(attempt, name) == getattr(before, name)
    }
    return replace(attempt, **changes) if changes else attempt
