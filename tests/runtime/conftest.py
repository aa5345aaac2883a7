"""Fixtures shared by the git and worktrees tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from paddock.runtime import git


@pytest.fixture
async def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    await git.init_repo(path, {"README.md": "# demo\n", "src/app.py": "print('hi')\n"})
    return path
