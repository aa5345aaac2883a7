"""When a sandboxed command has really started: the kernel's word for it, not a guess.

A launch returns once the chain that makes the sandbox is under way (a spare shell told its
command, or `sh` joining the cgroup → `nsenter` → `bwrap` → `setpriv`); the command itself
starts a few milliseconds later, after bwrap's mounts. To say `running` only once it runs, the
chain ends with a few words of perl before the command: they write `r` on a pipe the server
reads, then exec the command. perl opens that descriptor close-on-exec (every descriptor it
opens above 2 is), so the kernel closes it inside the successful `execve`, after its point of
no return: `r` then end-of-file means the command is running. End-of-file without `r`: the
chain ended before it (bwrap could not set the sandbox up); `r` then `x`: the exec failed
(perl says why on stderr and exits 127 or 126, as a shell would).

bwrap closes the descriptors it inherited in its own processes (the one outside and the
sandbox's init), and the helper's is closed by the exec: the command never holds it.

perl is perl-base, essential on Debian and needed by git; found only in the system's own
directories (the sandbox hides homes). Without it a launch goes as before: `started` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil

STARTED = b"r"  # the helper is about to exec the command
FAILED = b"x"  # the exec failed
SYSTEM_PATH = "/usr/bin:/bin"
# perl warns on stderr when the locale it is given is not installed; the helper is quiet and
# leaves the variable as the command's environment had it (it was added for perl alone).
QUIET = "PERL_BADLANG"
READ_LIMIT = 64


def find_perl() -> str | None:
    """The system's perl, where every sandbox sees it; None without one."""
    return shutil.which("perl", path=SYSTEM_PATH)


def helper_script(fd: int, *, forget_quiet: bool) -> str:
    """The perl that signals on descriptor `fd` and becomes the command (its arguments)."""
    forget = f"delete $ENV{{{QUIET}}}; " if forget_quiet else ""
    return (
        f"{forget}"
        f'my $s; open($s, ">&=", {fd}) and syswrite($s, "r"); '
        "exec {$ARGV[0]} @ARGV; "
        "my $why = $!; my $missing = $!{ENOENT}; "
        '$s and syswrite($s, "x"); '
        'print STDERR "paddock: cannot run $ARGV[0]: $why\\n"; '
        "exit($missing ? 127 : 126);"
    )


def helper_argv(perl: str, fd: int, argv: list[str], *, forget_quiet: bool) -> list[str]:
    """`argv` run through the helper: it signals on `fd` and execs `argv` (its PATH search)."""
    return [perl, "-e", helper_script(fd, forget_quiet=forget_quiet), "--", *argv]


def quiet_env(env: dict[str, str]) -> tuple[dict[str, str], bool]:
    """`env` with perl's locale warning off; whether the variable was added (the helper then
    removes it again)."""
    if QUIET in env:
        return env, False
    return {**env, QUIET: "0"}, True


class ExecSignal:
    """The server's end of one helper's pipe."""

    def __init__(self, read_fd: int) -> None:
        self._fd = read_fd
        os.set_blocking(read_fd, False)
        self._result: asyncio.Future[bool] | None = None

    @classmethod
    def pipe(cls) -> tuple[ExecSignal, int]:
        """A signal and the write end its helper inherits (the caller closes its copy once
        the helper's process has it)."""
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        return cls(read_fd), write_fd

    async def started(self) -> bool:
        """Wait for the verdict: True once the command was exec'd, False when it never will
        be. Asked again, the same answer."""
        if self._result is None:
            self._result = asyncio.get_running_loop().create_future()
            if self._fd < 0:  # closed before anyone asked
                self._result.set_result(False)
            else:
                self._watch(self._result)
        return await asyncio.shield(self._result)

    def _watch(self, result: asyncio.Future[bool]) -> None:
        loop = asyncio.get_running_loop()
        said = bytearray()

        def readable() -> None:
            try:
                chunk = os.read(self._fd, READ_LIMIT)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if chunk:
                said.extend(chunk[: READ_LIMIT - len(said)])
                return
            if not result.done():
                result.set_result(said.startswith(STARTED) and FAILED not in said)
            self.close()

        loop.add_reader(self._fd, readable)

    def close(self) -> None:
        """Stop listening (a verdict still awaited is then False)."""
        if self._result is not None and not self._result.done():
            self._result.set_result(False)
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            with contextlib.suppress(RuntimeError):  # no loop (shutdown): nothing watches it
                asyncio.get_running_loop().remove_reader(fd)
            os.close(fd)
