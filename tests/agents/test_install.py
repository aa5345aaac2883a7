"""`paddock agents install`: every CLI Paddock installs is pinned to the release its adapter and
tests are written against, asked of its registry at that version, and listed in docs/agents.md.

The registry's installers (npm, and pip in the agent's venv) are stand-ins here that record
what they are asked for and leave the program where the real ones would; tests/agents/conftest.py
installs the real CLIs, at their pins, for the live tests.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from paddock.agents.base import AgentAdapter
from paddock.agents.install import AgentInstalls
from paddock.agents.registry import BUILT_IN
from tests.agents.conftest import AGENTS_CACHE

DOCS = Path(__file__).parents[2] / "docs" / "agents.md"
INSTALLABLE = [a for a in BUILT_IN if a.package is not None]


def recorder(path: Path, log: Path, makes: str) -> None:
    """An executable at `path` that appends its arguments to `log` and creates `makes`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        f'mkdir -p "$(dirname "{makes}")" && printf "#!/bin/sh\\n" > "{makes}"\n'
        f'chmod +x "{makes}"\n'
    )
    path.chmod(0o755)


def test_every_installable_cli_is_pinned() -> None:
    assert {a.name for a in INSTALLABLE} == {"claude-code", "codex", "gemini", "aider", "opencode"}
    for adapter in INSTALLABLE:
        assert adapter.package is not None
        assert re.fullmatch(r"\d+\.\d+\.\d+", adapter.package.version), adapter.name
        separator = "@" if adapter.package.registry == "npm" else "=="
        assert adapter.package.requirement == (
            f"{adapter.package.spec}{separator}{adapter.package.version}"
        )


def test_the_docs_list_the_pins() -> None:
    """docs/agents.md's table of pinned versions is the adapters' own."""
    section = DOCS.read_text().split("## Pinned versions", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w-]+)` \| `([^`]+)` \|", section, re.MULTILINE)
    assert dict(rows) == {a.name: a.package.requirement for a in INSTALLABLE if a.package}


@pytest.mark.parametrize("adapter", INSTALLABLE, ids=lambda a: a.name)
def test_install_asks_the_registry_for_the_pinned_version(
    adapter: AgentAdapter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installs = AgentInstalls(tmp_path / "agents")
    asked = tmp_path / "asked.log"
    assert adapter.package is not None
    if adapter.package.registry == "npm":
        made = installs.npm_prefix() / "node_modules" / ".bin" / adapter.program
        recorder(tmp_path / "bin" / "npm", asked, str(made))
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    else:  # the venv is there already: its pip is asked
        made = installs.venv(adapter) / "bin" / adapter.program
        recorder(installs.venv(adapter) / "bin" / "python", asked, str(made))
    assert installs.install(adapter) == str(made)
    (line,) = asked.read_text().splitlines()
    assert line.split()[-1] == adapter.package.requirement


@pytest.mark.parametrize("adapter", INSTALLABLE, ids=lambda a: a.name)
def test_the_tests_run_the_pinned_releases(adapter: AgentAdapter) -> None:
    """The live tests' CLIs (installed by tests/agents/conftest.py) are the pinned ones."""
    from tests.agents.conftest import installed_cli

    executable = installed_cli(adapter)
    assert executable.startswith(str(AGENTS_CACHE))
    assert adapter.package is not None
    assert AgentInstalls(AGENTS_CACHE).version(executable) == adapter.package.version


def test_a_cli_that_did_not_answer_is_asked_again(tmp_path: Path) -> None:
    """A `--version` that fails once (a busy machine, a CLI mid-upgrade) is not remembered as
    "version unknown" until the file changes: the next ask gets the answer."""
    asked = tmp_path / "asked"
    cli = tmp_path / "cli"
    cli.write_text(
        f'#!/bin/sh\nif [ -e "{asked}" ]; then echo "cli 1.2.3"; else touch "{asked}"; exit 1; fi\n'
    )
    cli.chmod(0o755)
    installs = AgentInstalls(tmp_path / "cache")

    assert installs.version(str(cli)) is None
    assert installs.version(str(cli)) == "1.2.3"
