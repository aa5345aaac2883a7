from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, make_repo


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data") as srv:
        yield srv


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"README.md": "# demo\n", "app.txt": "v1\n"})
