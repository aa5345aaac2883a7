import pytest
from pydantic import ValidationError

from paddock.config import Settings
from paddock.domain.names import (
    attempt_branch,
    check_branch_template,
    is_valid_branch_name,
    new_id,
    short_id,
    slugify,
)


def test_new_ids_are_unique_hex():
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Fix the login bug!", "fix-the-login-bug"),
        ("Ünïcödé  title", "unicode-title"),
        ("///", "task"),
        ("", "task"),
        ("a" * 100, "a" * 40),
    ],
)
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_attempt_branch_uses_short_id_and_slug():
    attempt_id = "0123456789abcdef0123456789abcdef"
    assert short_id(attempt_id) == "01234567"
    assert attempt_branch(attempt_id, "Add dark mode") == "paddock/01234567-add-dark-mode"
    assert is_valid_branch_name(attempt_branch(attempt_id, "~weird^:title?*[x]"))


@pytest.mark.parametrize("name", ["feature/x", "paddock/abc-1", "v1.2"])
def test_valid_branch_names(name):
    assert is_valid_branch_name(name)


@pytest.mark.parametrize("name", ["", "-x", "a..b", "a b", "a~1", "x.lock", "a/", "a//b", "a@{1}"])
def test_invalid_branch_names(name):
    assert not is_valid_branch_name(name)


def test_branch_templates() -> None:
    attempt_id = "0123456789abcdef0123456789abcdef"
    assert attempt_branch(attempt_id, "Add dark mode", "work/{title}/{id}") == (
        "work/add-dark-mode/01234567"
    )
    assert check_branch_template("ai/{id}") == "ai/{id}"
    for bad in ("paddock/{title}", "x/{id}/{nope}", "bad..name/{id}", "{0}/{id}"):
        with pytest.raises(ValueError):
            check_branch_template(bad)
    with pytest.raises(ValidationError):
        Settings(branch_template="no-id/{title}")
