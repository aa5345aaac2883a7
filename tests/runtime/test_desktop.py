"""Handing a path to a program on the user's desktop (the editor command)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paddock.domain.errors import Unavailable
from paddock.runtime import desktop
from tests.e2e.server import wait_for


def test_the_program_runs_detached_in_the_folder_without_paddocks_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PADDOCK_TOKEN", "the-api-token")
    monkeypatch.setenv("EDITOR_THEME", "dark")
    script = 'echo "token=$PADDOCK_TOKEN theme=$EDITOR_THEME" > seen.tmp; mv seen.tmp seen'
    desktop.launch(["sh", "-c", script], tmp_path)
    seen = tmp_path / "seen"
    wait_for(seen.exists, 10)
    assert seen.read_text() == "token= theme=dark\n"


def test_a_program_that_cannot_start_says_so(tmp_path: Path) -> None:
    with pytest.raises(Unavailable) as error:
        desktop.launch([str(tmp_path / "no-such-editor"), str(tmp_path)], tmp_path)
    assert error.value.code == "editor_failed"
    assert "no-such-editor" in error.value.message
