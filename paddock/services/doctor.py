"""What is installed and what is missing on this machine.

Checks as functions of the settings, not a service class: `paddock doctor` runs them with no
server and no engine (the database is only opened to be checked)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from sqlalchemy import text

from paddock.config import Settings
from paddock.domain.sandbox import Network, Provider
from paddock.runtime import haproxy
from paddock.runtime.sandbox.sandboxes import Sandboxes
from paddock.services.agents import AgentService
from paddock.services.sandbox.sandboxing import make_sandboxes
from paddock.store.db import make_engine

# (binary, what it is for). Agent CLIs are checked by check_agents.
_TOOLS = (
    ("git", "worktrees, branches, diffs (required)"),
    ("bash", "runs project scripts and the script agent (required)"),
    ("bwrap", "the bubblewrap sandbox"),
    ("node", "JavaScript dev servers and npm-installed agent CLIs"),
    ("npm", "installing agent CLIs and front-end packages"),
)
_REQUIRED = {"git", "bash"}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool


def _version(binary: str) -> str:
    return _version_flag(binary, "--version")


def _version_flag(binary: str, flag: str) -> str:
    try:
        result = subprocess.run(
            [binary, flag],
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"found, but `--version` failed: {exc}"
    out = (result.stdout or result.stderr).strip().splitlines()
    return out[0] if out else "found"


def check_tools() -> list[Check]:
    checks = []
    for binary, purpose in _TOOLS:
        path = shutil.which(binary)
        detail = f"{_version(binary)} ({path})" if path else f"not found — {purpose}"
        checks.append(Check(binary, path is not None, detail, binary in _REQUIRED))
    return checks


def check_data_dir(settings: Settings) -> Check:
    try:
        settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.storage.data_dir):
            pass
    except OSError as exc:
        return Check("data dir", False, f"{settings.storage.data_dir}: {exc}", True)
    return Check("data dir", True, f"{settings.storage.data_dir} (writable)", True)


def check_database(settings: Settings) -> Check:
    url = settings.storage.database_url
    shown = url.split("@")[-1] if "@" in url else url
    try:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:
        return Check("database", False, f"{shown}: {exc.__class__.__name__}: {exc}", True)
    return Check("database", True, f"{shown} (reachable)", True)


def check_agents(settings: Settings) -> list[Check]:
    """One row per agent profile: optional, each one installed becomes usable."""
    checks = []
    for agent in AgentService(settings).list_with_versions():
        if agent.installed:
            detail = f"{agent.version or 'version unknown'} ({agent.executable})"
        elif agent.installable:
            detail = f"not installed — `paddock agents install {agent.name}`"
        else:
            detail = f"{agent.program} not found on PATH"
        checks.append(Check(f"agent {agent.name}", agent.installed, detail, False))
    return checks


def check_sandboxes(settings: Settings) -> list[Check]:
    """One row per sandbox provider (none always works), then which one attempts get."""
    sandboxes = make_sandboxes(settings)
    checks = []
    for provider in Provider:
        problem = sandboxes.problem(provider)
        if problem is None and provider is not Provider.none:
            limits = "limits enforced" if sandboxes.limits_enforced(provider) else "NO limits"
            detail = f"works ({', '.join([limits, *sandboxes.details(provider)])})"
        else:
            detail = problem or "plain processes: no isolation, no limits"
        checks.append(Check(f"sandbox {provider.value}", problem is None, detail, False))
    chosen = sandboxes.resolve(None)
    checks.append(
        Check("sandbox default", True, f"{chosen.value} ({settings.sandbox.provider})", False)
    )
    checks += check_networks(settings, sandboxes, chosen)
    sandboxes.close()  # a Podman service started to find out is stopped again
    return checks


def check_networks(settings: Settings, sandboxes: Sandboxes, chosen: Provider) -> list[Check]:
    """Network "private" for the default provider (the others always work), and the default."""
    private = sandboxes.network_problem(chosen, Network.private)
    detail = (
        f"{chosen.value} sandboxes: outbound only, never the host's loopback"
        if private is None
        else f"{chosen.value} sandboxes cannot have it: {private}"
    )
    if chosen is Provider.none:
        detail = "provider none: processes share the host's network whatever is chosen"
    default = settings.sandbox.network
    note = {
        Network.private: "",
        Network.none: " (loopback only)",
        Network.host: " — DANGEROUS: sandboxes share the host's loopback, Paddock's API included",
    }[default]
    usable = default is not Network.private or private is None
    if not usable and "network" not in settings.sandbox.model_fields_set:
        usable, note = True, " unavailable: attempts fall back to host — DANGEROUS (see above)"
    return [
        Check("network private", private is None, detail, False),
        Check("network default", usable, f"{default.value}{note}", False),
    ]


def check_preview_plane(settings: Settings) -> Check:
    """HAProxy serves previews and relays into sandboxes' own networks when it is here
    (decision 018). Without it the server does both itself, slower."""
    chosen = settings.previews.plane
    found = haproxy.binary()
    if chosen == "in_process":
        detail = "previews are served by the server itself (preview_plane = in_process)"
    elif found is None:
        detail = "not found — previews are served by the server itself, slower (apt: haproxy)"
    else:
        port = settings.previews.plane_port
        where = f"port {port}" if port is not None else f"port {settings.server.port + 1}"
        version = _version_flag(found, "-v").split(" - ")[0]
        detail = f"{version} ({found}), previews on {where}"
    return Check("preview plane", chosen == "in_process" or found is not None, detail, False)


def run_checks(settings: Settings) -> list[Check]:
    checks = check_tools()
    checks.append(check_preview_plane(settings))
    checks += check_sandboxes(settings)
    checks += check_agents(settings)
    checks.append(check_data_dir(settings))
    if os.access(settings.storage.data_dir, os.W_OK) or not settings.storage.is_sqlite:
        checks.append(check_database(settings))
    return checks
