"""The guard Aider runs under (`python -m paddock.agents.aider_guard <aider> <args>`).

Aider exits 0 even when it gave up on a turn (an unreachable model, a refused key, a `git add`
of a new file that failed, after which it writes nothing). The guard passes Aider's output
through unchanged, reads it with the same normaliser (agents/aider_output.py), and exits 1 when
the output ended on such a failure (saying why on stderr). Paddock then records a failed process
and a failed turn, like for any other CLI. Signals it gets (Paddock's interrupt) go on to Aider.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from types import FrameType

from paddock.agents.aider_output import AiderNormaliser

GUARD = "paddock.agents.aider_guard"  # this module, run as the program that runs Aider


def guard(argv: list[str]) -> int:
    """Run Aider (`argv`) with its stdout passed through as it comes and its exit code kept,
    except that an output ending on an error Aider gave up on exits 1 (Aider says 0)."""
    started: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in started:  # none yet: Aider starts right after, nothing to stop
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE)  # stdin and stderr: ours
    except OSError as exc:
        print(f"paddock: cannot run {argv[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    started.append(child)
    assert child.stdout is not None
    normaliser = AiderNormaliser()
    out = sys.stdout.buffer
    pending = b""
    while chunk := os.read(child.stdout.fileno(), 1 << 16):
        out.write(chunk)
        out.flush()
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            normaliser.feed(line.decode("utf-8", "replace"))
    if pending:
        normaliser.feed(pending.decode("utf-8", "replace"))
    normaliser.finish()
    code = child.wait()
    if code < 0:  # ended by a signal: end the same way
        with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    if code == 0 and normaliser.failure is not None:
        reason = normaliser.failure.splitlines()[0] if normaliser.failure else "an error"
        print(f"paddock: Aider's turn ended on an error: {reason}", file=sys.stderr, flush=True)
        return 1
    return code


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(f"usage: python -m {GUARD} <aider> [args...]")
    sys.exit(guard(sys.argv[1:]))
