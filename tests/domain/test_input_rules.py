"""The rules for what users type: task titles and descriptions, a project's path, branch names
(domain/tasks.py, domain/paths.py, domain/names.py). Every service, so the API, the UI's forms
and the CLI, enforces them; tests/e2e/test_input_rules.py goes through the server."""

import subprocess

import pytest

from paddock.domain.errors import InvalidInput
from paddock.domain.names import check_branch_name, is_valid_branch_name
from paddock.domain.paths import check_repo_path
from paddock.domain.tasks import MAX_DESCRIPTION_BYTES, check_description, check_title


def code_of(call, *args) -> str:
    with pytest.raises(InvalidInput) as err:
        call(*args)
    return err.value.code


# --- titles -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title", ["Fix the login bug", "Ünïcödé 😀 title", "a" * 500, "v1.2: ship it (#42)"]
)
def test_plain_titles_pass(title: str) -> None:
    assert check_title(title) == title


def test_surrounding_spaces_are_dropped() -> None:
    assert check_title("  spaced  ") == "spaced"


@pytest.mark.parametrize(
    "title",
    [
        "nul\x00inside",
        "escape \x1b[31mred",
        "carriage\rreturn",
        "line\nfeed",
        "tab\tinside",
        "del\x7f",
        "c1\x85next line",
        "line\u2028separator",
        "paragraph\u2029separator",
        "lone \ud800 surrogate",
    ],
)
def test_control_characters_in_a_title_are_refused(title: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_title(title)
    assert err.value.code == "bad_title"
    assert "control characters" in err.value.message


@pytest.mark.parametrize("title", ["", "   ", "a" * 501])
def test_empty_or_long_titles_are_refused(title: str) -> None:
    assert code_of(check_title, title) == "bad_title"


# --- descriptions -------------------------------------------------------------------------------


def test_descriptions_keep_tabs_and_line_breaks() -> None:
    text = "two\nlines\r\nand\ta tab\n"
    assert check_description(text) == text
    assert check_description("") == ""


def test_a_description_up_to_the_limit_passes_and_one_byte_more_does_not() -> None:
    assert check_description("x" * MAX_DESCRIPTION_BYTES)
    assert code_of(check_description, "x" * (MAX_DESCRIPTION_BYTES + 1)) == (
        "description_too_large"
    )


def test_the_limit_counts_utf8_bytes() -> None:
    two_bytes = "é" * (MAX_DESCRIPTION_BYTES // 2)
    assert check_description(two_bytes)
    assert code_of(check_description, two_bytes + "é") == "description_too_large"


def test_twenty_megabytes_are_refused() -> None:
    assert code_of(check_description, "x" * (20 << 20)) == "description_too_large"


@pytest.mark.parametrize("text", ["nul\x00", "escape \x1b[2J", "bell\x07", "del\x7f", "\ud800"])
def test_other_control_characters_in_a_description_are_refused(text: str) -> None:
    assert code_of(check_description, text) == "bad_description"


# --- a project's path ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/srv/repo", "/", "  /home/me/code  "])
def test_absolute_paths_pass(path: str) -> None:
    assert check_repo_path(path) == path.strip()


@pytest.mark.parametrize("path", ["", "   ", ".", "repo", "./repo", "../elsewhere", "~user"])
def test_empty_and_relative_paths_are_refused(path: str) -> None:
    assert code_of(check_repo_path, path) == "path_not_absolute"


def test_a_nul_in_a_path_is_refused() -> None:
    assert code_of(check_repo_path, "/srv/re\x00po") == "bad_path"


# --- branch names -------------------------------------------------------------------------------

GOOD_BRANCHES = ["main", "feature/x", "paddock/abc-1", "v1.2", "héllo", "a-b_c", "x/y/z"]
BAD_BRANCHES = [
    "HEAD",
    "@",
    "refs/heads/main",
    "refs/x",
    "-x",
    "--force",
    "a/.hidden",
    ".hidden",
    "a.lock/b",
    "x.lock",
    "a..b",
    "a//b",
    "/a",
    "a/",
    "a.",
    "a@{1}",
    "a b",
    "a~1",
    "a^",
    "a:b",
    "a?",
    "a*",
    "a[b",
    "a\\b",
    "tab\tname",
    "nul\x00",
    "",
    "x" * 201,
]


@pytest.mark.parametrize("name", GOOD_BRANCHES)
def test_short_branch_names_pass(name: str) -> None:
    assert is_valid_branch_name(name)
    assert check_branch_name(name) == name


@pytest.mark.parametrize("name", BAD_BRANCHES)
def test_bad_branch_names_are_refused_with_bad_branch_name(name: str) -> None:
    assert not is_valid_branch_name(name)
    assert code_of(check_branch_name, name) == "bad_branch_name"


@pytest.mark.parametrize("name", [n for n in GOOD_BRANCHES + BAD_BRANCHES if "\x00" not in n])
def test_what_passes_git_takes_as_a_branch(name: str) -> None:
    """Never looser than `git check-ref-format --branch` (ours also refuses refs/… names)."""
    git = subprocess.run(
        ["git", "check-ref-format", "--branch", name], capture_output=True, check=False
    )
    if is_valid_branch_name(name):
        assert git.returncode == 0, name
