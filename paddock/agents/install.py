"""Agent CLIs in a Paddock-managed prefix: found there first, then on PATH; installed there
from their registry (npm packages with `npm --prefix`, Python ones in a venv of their own), at
the version each adapter pins (`Package.version`): a newer release can change the output or
the protocol an adapter reads, so it is never picked up silently."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from paddock.agents.base import AgentAdapter
from paddock.domain.errors import InvalidInput, Unavailable

VERSION_TIMEOUT = 20.0
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?(?:[-.+][0-9A-Za-z.]+)?")


class AgentInstalls:
    def __init__(self, root: Path) -> None:
        self.root = root  # <data dir>/agents by default
        self._versions: dict[str, tuple[int, str | None]] = {}  # executable → (mtime, version)

    def npm_prefix(self) -> Path:
        return self.root / "npm"

    def venv(self, adapter: AgentAdapter) -> Path:
        return self.root / "venvs" / adapter.name

    def executable(self, adapter: AgentAdapter) -> str | None:
        """The CLI's path: Paddock's install first, then PATH; None when it is nowhere."""
        managed = [self.npm_prefix() / "node_modules" / ".bin", self.venv(adapter) / "bin"]
        for folder in managed:
            candidate = folder / adapter.program
            if candidate.is_file():
                return str(candidate)
        return shutil.which(adapter.program)

    def version(self, executable: str) -> str | None:
        """What `<cli> --version` says (its first version-looking word), or None. Asked once
        per file as it is (an install or upgrade changes its mtime): a Node CLI can take
        seconds to answer."""
        try:
            stamp = os.stat(executable).st_mtime_ns
        except OSError:
            return None
        cached = self._versions.get(executable)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        version = self._ask_version(executable)
        if version is not None:  # a CLI that did not answer (busy machine) is asked again
            self._versions[executable] = (stamp, version)
        return version

    def _ask_version(self, executable: str) -> str | None:
        try:
            done = subprocess.run(
                [executable, "--version"],
                capture_output=True,
                text=True,
                timeout=VERSION_TIMEOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        found = _VERSION.search(done.stdout + done.stderr)
        return found.group(0) if found else None

    def install(self, adapter: AgentAdapter) -> str:
        """Install the CLI into Paddock's prefix and return its executable.

        One install at a time per prefix (a file lock): concurrent `npm --prefix` runs
        overwrite each other's package.json and lose packages.
        """
        if adapter.package is None:
            raise InvalidInput(
                f"{adapter.name} is not installed by Paddock", code="not_installable"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".install.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._install(adapter)

    def _install(self, adapter: AgentAdapter) -> str:
        package = adapter.package
        if package is None:
            raise InvalidInput(
                f"{adapter.name} is not installed by Paddock", code="not_installable"
            )
        if package.registry == "npm":
            npm = shutil.which("npm")
            if npm is None:
                raise Unavailable(
                    "npm is not installed (it installs this agent)", code="npm_missing"
                )
            self.npm_prefix().mkdir(parents=True, exist_ok=True)
            _run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(self.npm_prefix()),
                    "--no-fund",
                    "--no-audit",
                    package.requirement,
                ],
                adapter.name,
            )
        else:
            venv = self.venv(adapter)
            if not (venv / "bin" / "python").is_file():
                _run([sys.executable, "-m", "venv", str(venv)], adapter.name)
            _run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "-q",
                    package.requirement,
                ],
                adapter.name,
            )
        found = self.executable(adapter)
        if found is None:
            raise Unavailable(
                f"{package.requirement} installed but {adapter.program} was not found in "
                f"{self.root}",
                code="install_failed",
            )
        return found


def _run(argv: list[str], name: str) -> None:
    done = subprocess.run(
        argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise Unavailable(
            f"installing {name} failed ({' '.join(argv[:3])} …): {' / '.join(tail)}",
            code="install_failed",
        )
