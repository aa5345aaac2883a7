"""Programs on the user's desktop that Paddock hands a path to (the `editor` setting's command).

They are the user's, not an attempt's: started detached (a session of their own, no input,
output dropped), never supervised nor stopped with the attempt, and without Paddock's own
PADDOCK_* variables (the API token among them)."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from paddock.domain.errors import Unavailable


def launch(argv: list[str], cwd: Path) -> None:
    """Start `argv` in `cwd` and return at once; Unavailable when it cannot start."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PADDOCK_")}
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as error:
        raise Unavailable(
            f"the editor command {argv[0]!r} could not start: {error.strerror or error}",
            code="editor_failed",
        ) from error
    # Reaped when it ends, whenever that is (an editor may run for hours).
    threading.Thread(target=process.wait, name="paddock-desktop-wait", daemon=True).start()
