"""This server's id as a runner, when servers share a database (docs/scale-out.md): made once,
kept in its data dir, so that a restart recognises the attempts it ran."""

from __future__ import annotations

from pathlib import Path

from paddock.domain.names import new_id

RUNNER_ID_FILE = "runner-id"


def local_runner_id(data_dir: Path) -> str:
    path = data_dir / RUNNER_ID_FILE
    try:
        found = path.read_text().strip()
    except FileNotFoundError:
        found = ""
    if found:
        return found
    made = new_id()
    path.write_text(made + "\n")
    return made
