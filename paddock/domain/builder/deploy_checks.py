"""The deploy-readiness checks that read a project's manifests (package.json, requirements,
pyproject.toml, Procfile, Dockerfile): which stack the app is, how a host starts it, and
whether its dependencies are pinned. Part of deploy.py, which re-exports them.

Stacks (the deploy paths differ by them):

- vite_react: a package.json depending on `vite` (or a vite.config.*): built with
  `npm run build` into `dist/`, served as files;
- python_fastapi: `fastapi` in requirements*.txt or pyproject.toml, or imported by app code;
- static_site: an index.html at the root and neither of the above, nor a package.json;
- unknown: anything else.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from paddock.domain.builder.deploy_env import is_app_code
from paddock.domain.builder.deploy_paths import Stack
from paddock.domain.builder.deploy_types import CheckStatus, DeployCheck

NODE_LOCKFILES = (
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
)
PYTHON_LOCKFILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock")
_LOOPBACK = re.compile(r"(?<![\w.])(127\.0\.0\.1|localhost|::1)(?![\w.])")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_FASTAPI_APP = re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=\s*(?:fastapi\.)?FastAPI\(", re.MULTILINE)
_FASTAPI_IMPORT = re.compile(r"^\s*(from\s+fastapi\b|import\s+fastapi\b)", re.MULTILINE)


# --- manifests ---------------------------------------------------------------------------------


def package_json(files: Mapping[str, str]) -> dict[str, Any] | None:
    """The root package.json as an object; None when there is none or it is not an object
    (a broken one is reported by check_dependencies_pinned)."""
    text = files.get("package.json")
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _node_dependencies(manifest: Mapping[str, Any]) -> dict[str, str]:
    deps: dict[str, str] = {}
    for key in ("dependencies", "devDependencies"):
        section = manifest.get(key)
        if isinstance(section, dict):
            deps.update({str(k): str(v) for k, v in section.items()})
    return deps


def _scripts(manifest: Mapping[str, Any] | None) -> dict[str, str]:
    section = (manifest or {}).get("scripts")
    if not isinstance(section, dict):
        return {}
    return {str(k): str(v) for k, v in section.items() if isinstance(v, str) and v.strip()}


def _requirement_files(files: Mapping[str, str]) -> dict[str, str]:
    return {
        path: text
        for path, text in files.items()
        if "/" not in path and re.fullmatch(r"requirements([-_.\w]*)\.txt", path)
    }


def _requirements(text: str) -> list[str]:
    """The requirement lines of a requirements file: no comments, blanks or options (`-r`,
    `--hash` continuation lines ...)."""
    lines = []
    for raw in text.replace("\\\n", " ").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw)
        line = re.split(r"\s--?[a-z]", line, maxsplit=1)[0].strip()  # per-line options: --hash
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def _pyproject(files: Mapping[str, str]) -> dict[str, Any] | None:
    text = files.get("pyproject.toml")
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return None


def _pyproject_dependencies(pyproject: Mapping[str, Any]) -> list[str]:
    project = pyproject.get("project")
    deps = project.get("dependencies") if isinstance(project, dict) else None
    found = [d for d in deps if isinstance(d, str)] if isinstance(deps, list) else []
    tool = pyproject.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    section = poetry.get("dependencies") if isinstance(poetry, dict) else None
    if isinstance(section, dict):
        found += [_poetry_requirement(k, v) for k, v in section.items() if k != "python"]
    return found


def _poetry_requirement(name: str, version: object) -> str:
    """A Poetry dependency as a requirement line: "1.2.3" is exact there, "^1.2" is a range."""
    if isinstance(version, str) and re.fullmatch(r"\d[\w.!+-]*", version):
        return f"{name}=={version}"
    return f"{name} {version}"


def _python_names(files: Mapping[str, str]) -> set[str]:
    """The (normalised) names of the Python packages the project declares."""
    lines = [line for text in _requirement_files(files).values() for line in _requirements(text)]
    lines += _pyproject_dependencies(_pyproject(files) or {})
    names = set()
    for line in lines:
        found = _REQUIREMENT_NAME.match(line)
        if found:
            names.add(re.sub(r"[-_.]+", "-", found.group(1)).lower())
    return names


# --- stack -------------------------------------------------------------------------------------


def detect_stack(files: Mapping[str, str]) -> Stack:
    manifest = package_json(files)
    if "fastapi" in _python_names(files) or any(
        is_app_code(path) and path.endswith(".py") and _FASTAPI_IMPORT.search(text)
        for path, text in files.items()
    ):
        return Stack.python_fastapi
    has_vite_config = any(re.fullmatch(r"vite\.config\.[cm]?[jt]s", p) for p in files)
    if manifest is not None and ("vite" in _node_dependencies(manifest) or has_vite_config):
        return Stack.vite_react
    if "index.html" in files and "package.json" not in files:
        return Stack.static_site
    return Stack.unknown


def fastapi_target(files: Mapping[str, str]) -> str:
    """`module:variable` of the app code creating the FastAPI app (shallowest first);
    `app.main:app`, the template's, when none is found."""
    for path in sorted(files, key=lambda p: (p.count("/"), p)):
        if not (is_app_code(path) and path.endswith(".py")):
            continue
        found = _FASTAPI_APP.search(files[path])
        if found:
            module = PurePosixPath(path).with_suffix("").parts
            if module[-1] == "__init__":
                module = module[:-1]
            return f"{'.'.join(module)}:{found.group(1)}"
    return "app.main:app"


# --- start command -----------------------------------------------------------------------------


def check_start_command(files: Mapping[str, str], template_start: str | None) -> DeployCheck:
    """How a host starts the app: a Procfile `web:` line, package.json's `start`, a
    Dockerfile's CMD / ENTRYPOINT, or the template's production start command. A static site
    and a Vite app with a `build` script need none: the host serves files. A command bound to
    127.0.0.1 is a warning: on a host nothing outside the machine could reach it."""
    stack = detect_stack(files)
    manifest = package_json(files)
    for source, command in _start_commands(files, manifest, template_start):
        if _LOOPBACK.search(command):
            return _start(
                CheckStatus.warn,
                f"{source} starts the app on a loopback address only ({command}): a host "
                "could not reach it.",
                _start_fix(files, stack),
            )
        return _start(CheckStatus.pass_, f"{source}: {command}", None)
    if stack is Stack.static_site:
        return _start(CheckStatus.pass_, "A static site needs none: the host serves its files.")
    if stack is Stack.vite_react and "build" in _scripts(manifest):
        return _start(
            CheckStatus.pass_,
            "None needed: `npm run build` writes the app's files to dist/ and the host serves "
            "them.",
        )
    return _start(
        CheckStatus.fail,
        "Nothing says how to start the app: no Procfile, no start script in package.json, no "
        "Dockerfile CMD.",
        _start_fix(files, stack),
    )


def _start_commands(
    files: Mapping[str, str], manifest: Mapping[str, Any] | None, template_start: str | None
) -> list[tuple[str, str]]:
    """(where it comes from, the command), in the order a host would pick them."""
    found: list[tuple[str, str]] = []
    for line in files.get("Procfile", "").splitlines():
        kind, colon, command = line.partition(":")
        if colon and kind.strip() == "web" and command.strip():
            found.append(("Procfile", command.strip()))
    start = _scripts(manifest).get("start")
    if start:
        found.append(("package.json start script", start.strip()))
    for line in files.get("Dockerfile", "").splitlines():
        instruction = line.strip().split(maxsplit=1)
        if len(instruction) == 2 and instruction[0].upper() in {"CMD", "ENTRYPOINT"}:
            found.append((f"Dockerfile {instruction[0].upper()}", instruction[1].strip()))
    if template_start and template_start.strip():
        found.append(("The template's start command", template_start.strip()))
    return found


def _start_fix(files: Mapping[str, str], stack: Stack) -> str:
    if stack is Stack.python_fastapi:
        target = fastapi_target(files)
        return (
            "Add a file named Procfile at the root of the repository containing:\n"
            f"web: uvicorn {target} --host 0.0.0.0 --port $PORT"
        )
    if "package.json" in files:
        return (
            "Add a start script to package.json that listens on 0.0.0.0 and $PORT, e.g. "
            '"start": "node server.js"'
        )
    return (
        "Add a file named Procfile at the root of the repository with one line: "
        "web: <the command that starts the app on 0.0.0.0 and $PORT>"
    )


def _start(status: CheckStatus, message: str, fix: str | None = None) -> DeployCheck:
    return DeployCheck("start_command", "Start command", status, message, fix)


# --- pinned dependencies -----------------------------------------------------------------------


def check_dependencies_pinned(files: Mapping[str, str]) -> DeployCheck:
    """Every dependency at an exact version (a lockfile, or `==` in requirements), so what is
    deployed is what was tested. Unpinned is a warning (it installs today; a release tomorrow
    may break it); a package.json that is not JSON fails (no host can install from it);
    nothing to install passes."""
    results = [r for r in (_node_pinned(files), _python_pinned(files)) if r is not None]
    if not results:
        return _pinned(CheckStatus.pass_, "Nothing to install.")
    severity = [CheckStatus.pass_, CheckStatus.warn, CheckStatus.fail]
    worst = max(results, key=lambda r: severity.index(r[0]))
    messages = " ".join(r[1] for r in results)
    fixes = "\n".join(r[2] for r in results if r[2])
    return _pinned(worst[0], messages, fixes or None)


Result = tuple[CheckStatus, str, str | None]


def _node_pinned(files: Mapping[str, str]) -> Result | None:
    if "package.json" not in files:
        return None
    manifest = package_json(files)
    if manifest is None:
        return (
            CheckStatus.fail,
            "package.json is not valid JSON.",
            'Ask for it in your next change: "Fix package.json: it must be valid JSON."',
        )
    if not _node_dependencies(manifest):
        return None
    lockfile = next((name for name in NODE_LOCKFILES if name in files), None)
    if lockfile:
        return (CheckStatus.pass_, f"Node packages are pinned by {lockfile}.", None)
    return (
        CheckStatus.warn,
        "package.json has no lockfile: each install may get newer packages than were tested.",
        "Run `npm install` in the app's folder and commit the package-lock.json it writes.",
    )


def _python_pinned(files: Mapping[str, str]) -> Result | None:
    lockfile = next((name for name in PYTHON_LOCKFILES if name in files), None)
    declared = [
        (path, line)
        for path, text in _requirement_files(files).items()
        for line in _requirements(text)
    ]
    declared += [("pyproject.toml", d) for d in _pyproject_dependencies(_pyproject(files) or {})]
    if not declared and lockfile is None and "Pipfile" not in files:
        return None
    if lockfile:
        return (CheckStatus.pass_, f"Python packages are pinned by {lockfile}.", None)
    loose = [(path, line) for path, line in declared if not _is_pinned(line)]
    if "Pipfile" in files:
        loose.append(("Pipfile", "(no Pipfile.lock)"))
    if not loose:
        return (CheckStatus.pass_, "Python packages are pinned to exact versions.", None)
    shown = ", ".join(f"{line} ({path})" for path, line in loose[:8])
    return (
        CheckStatus.warn,
        f"{len(loose)} Python package(s) are not pinned to an exact version: {shown}.",
        "Pin each to the version you tested, e.g. fastapi==0.115.0 in requirements.txt "
        "(`pip freeze` in the app's environment lists the installed versions).",
    )


def _is_pinned(requirement: str) -> bool:
    """`name==1.2.3` (or `===`), or a direct reference `name @ https://...` to one artifact."""
    spec = requirement.split(";", 1)[0]
    if " @ " in spec or spec.strip().startswith(("http://", "https://", "git+")):
        return True
    return bool(re.search(r"===?\s*[\w.!+-]+\s*$", spec)) and "*" not in spec and "," not in spec


def _pinned(status: CheckStatus, message: str, fix: str | None = None) -> DeployCheck:
    return DeployCheck("dependencies_pinned", "Dependencies pinned", status, message, fix)
