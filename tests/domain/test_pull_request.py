"""Which forge and repository a remote URL names."""

from __future__ import annotations

import pytest

from paddock.domain.errors import InvalidInput
from paddock.domain.pull_request import Forge, check_repo, forge_of_host, parse_remote


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:o/r.git", ("github.com", "o/r")),
        ("https://github.com/o/r", ("github.com", "o/r")),
        ("https://user:token@github.com/o/r.git", ("github.com", "o/r")),
        ("ssh://git@gitlab.example:2222/grp/sub/app.git", ("gitlab.example", "grp/sub/app")),
        ("/srv/git/app.git", None),
        ("../app", None),
        ("file:///srv/git/app.git", None),
    ],
)
def test_remote_urls(url: str, expected: tuple[str, str] | None) -> None:
    assert parse_remote(url) == expected


def test_forges_of_hosts() -> None:
    assert forge_of_host("github.com") is Forge.github
    assert forge_of_host("gitlab.example") is Forge.gitlab
    assert forge_of_host("git.example.org") is Forge.gitea
    assert check_repo("grp/sub/app") == "grp/sub/app"
    with pytest.raises(InvalidInput):
        check_repo("../etc")
