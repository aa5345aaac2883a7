"""Git as a user runs it, to set up and check repositories behind Paddock's back."""

from __future__ import annotations

import subprocess
from pathlib import Path


def sh_git(cwd: Path, *args: str) -> str:
    """Plain git, as a user would run it (hooks and all)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()
