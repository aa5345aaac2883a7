"""The `editor` setting: a known editor's link, a link template, none, or a command."""

from __future__ import annotations

import pytest

from paddock.domain.editor import Editor
from paddock.domain.errors import InvalidInput

PATH = "/data/worktrees/repo-1/ab12-fix the bug"


def test_known_editors_are_links_to_the_path() -> None:
    vscode = Editor.of("vscode")
    assert vscode is not None
    assert vscode.link_to(PATH) == "vscode://file/data/worktrees/repo-1/ab12-fix%20the%20bug"
    cursor = Editor.of(" Cursor ")
    assert cursor is not None and cursor.link_to("/w") == "cursor://file/w"
    assert vscode.argv(PATH) == []


def test_a_link_template_gets_the_path() -> None:
    remote = Editor.of("vscode://vscode-remote/ssh-remote+devbox{path}")
    assert remote is not None
    assert remote.link_to("/w/x") == "vscode://vscode-remote/ssh-remote+devbox/w/x"
    appended = Editor.of("zed://file")
    assert appended is not None and appended.link_to("/w") == "zed://file/w"


@pytest.mark.parametrize("setting", ["none", "", "  NONE "])
def test_none_means_no_editor(setting: str) -> None:
    assert Editor.of(setting) is None


def test_a_command_gets_the_path_as_one_argument() -> None:
    zed = Editor.of("zed --new {path}")
    assert zed is not None and zed.link_to(PATH) is None
    assert zed.argv(PATH) == ["zed", "--new", PATH]
    idea = Editor.of("idea")
    assert idea is not None and idea.argv(PATH) == ["idea", PATH]


def test_a_command_that_does_not_parse_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        Editor.of("code 'unclosed")
    assert error.value.code == "bad_editor"
