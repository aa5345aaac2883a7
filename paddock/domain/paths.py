"""Paths the user gives Paddock (a project's repository)."""

from __future__ import annotations

from pathlib import PurePosixPath

from paddock.domain.errors import InvalidInput


def check_repo_path(path: str) -> str:
    """`path` (spaces around it dropped; the caller has expanded a leading `~`) if it is
    absolute. An empty or relative path is refused (`path_not_absolute`): it would name a
    directory relative to wherever the server happens to run. NUL is refused (`bad_path`): no
    file system path holds one."""
    path = path.strip()
    if "\x00" in path:
        raise InvalidInput("a path cannot hold a NUL character", code="bad_path")
    if not path or not PurePosixPath(path).is_absolute():
        raise InvalidInput(
            f"give the repository's absolute path (not {path!r}): a relative one would be "
            "looked up from wherever the server runs",
            code="path_not_absolute",
            path=path,
        )
    return path
