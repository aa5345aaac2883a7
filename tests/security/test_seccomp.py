"""Escapes through the kernel's system calls: ptrace, keyrings, mounts and namespaces, BPF and
perf, module and kernel loading, io_uring, file handles, the clock, raw I/O ... each is refused
inside a sandbox by its seccomp filter (bwrap: Paddock's, runtime/sandbox/seccomp.py; container: the
engine's default profile), and a refused call cannot be reached through another ABI's numbers.

One attempt per provider runs `syscalls.py` (python3's ctypes, inside the sandbox) with the
filter's call numbers; every blocked call is a case of its own, read from that one run. The
arguments get each call past the kernel's own checks where those come first, so without a
filter most calls fail some other way or succeed; the rest (those that check capabilities
first) are told apart by tests/runtime/sandbox/test_seccomp.py, which runs the same probe as root.
"""

from __future__ import annotations

import errno
import json
import platform
import shlex
from pathlib import Path

import pytest

from paddock.runtime.sandbox import seccomp
from tests.security.helpers import Bench, Run

FILTER = seccomp.native_filter()
REFUSED = FILTER.refused if FILTER is not None else ()
NUMBERS = (
    {name: seccomp.MACHINES[FILTER.machine].numbers[name] for name in REFUSED} if FILTER else {}
)
PROBE = (Path(__file__).parent / "syscalls.py").read_text()
SCRIPT = f"""
probe status grep -E '^Seccomp' /proc/self/status
probe userns unshare -Ur id -u
python3 - {shlex.quote(json.dumps(NUMBERS))} <<'PADDOCK_PROBE'
{PROBE}
PADDOCK_PROBE
echo "probe exit: $?"
"""
# What the default profiles of Docker and of Podman (containers/common) refuse a container that
# holds no extra capability; both allow the rest of the list to capabilities or namespaces
# (Podman: mount, unshare, ptrace, keyctl ...). Podman refuses with ENOSYS by default.
ENGINE_REFUSES = frozenset(
    {
        "add_key",
        "request_key",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "create_module",
        "query_module",
        "get_kernel_syms",
        "open_by_handle_at",
        "settimeofday",
        "clock_settime",
        "swapon",
        "swapoff",
        "acct",
        "quotactl",
        "quotactl_fd",
        "lookup_dcookie",
        "nfsservctl",
        "fanotify_init",
        "iopl",
        "ioperm",
        "kcmp",
        "process_madvise",
        "move_pages",
        "vhangup",
        "sethostname",
        "setdomainname",
        "uselib",
        "ustat",
        "sysfs",
        "_sysctl",
        "personality",
    }
)
CASES = [("bwrap", name) for name in REFUSED]
CASES += [("container", name) for name in REFUSED if name in ENGINE_REFUSES]

pytestmark = pytest.mark.skipif(
    FILTER is None, reason=seccomp.machine_problem(platform.machine()) or ""
)

_runs: dict[tuple[int, str], Run] = {}


@pytest.fixture
def probed(bench: Bench, provider: str) -> Run:
    """The probe's run in `provider`'s sandbox: one attempt per provider and module."""
    key = (id(bench), provider)
    if key not in _runs:
        run = bench.run(SCRIPT, provider=provider, network="none")
        assert "probe exit: 0" in run.lines, run.text
        _runs[key] = run
    return _runs[key]


def filters(run: Run) -> int:
    """How many seccomp filters the sandbox's processes run under (0: none, mode 0)."""
    status = dict(line.split(":", 1) for line in run.allowed("status").out.split("|"))
    mode, count = status["Seccomp"].strip(), int(status["Seccomp_filters"])
    assert (mode == "2") == (count > 0), status  # filter mode exactly when filters exist
    return count


def test_a_sandbox_runs_under_a_seccomp_filter(probed: Run, provider: str) -> None:
    # bwrap: Paddock's own, once; container: the engine's profile (its runtime may add one).
    assert filters(probed) == 1 if provider == "bwrap" else filters(probed) >= 1


@pytest.mark.parametrize(("provider", "name"), CASES, indirect=["provider"])
def test_a_blocked_call_is_refused(probed: Run, provider: str, name: str) -> None:
    """Refused, by the filter: a caller without capabilities gets EPERM from a few calls (the
    ones that check capabilities first) with or without one; that the filter refuses those too
    is proven as root by tests/runtime/sandbox/test_seccomp.py."""
    assert filters(probed) >= 1
    result = probed.probe(f"sys.{name}")
    if provider == "bwrap":
        expected = errno.ENOSYS if name == "clone3" else errno.EPERM
        assert result.rc == expected, (name, result, errno.errorcode.get(result.rc))
    else:  # Docker's profile: EPERM; Podman's default action: ENOSYS
        assert result.rc in (errno.EPERM, errno.ENOSYS), (name, result)


def test_everyday_calls_still_work(probed: Run, provider: str) -> None:
    """A plain fork (clone without namespace flags), a thread (glibc tries clone3, gets ENOSYS,
    falls back to clone), personality's query, getpid; and no descriptor but 0-2 is a pipe (the
    filter's own pipe is closed by bwrap before the command)."""
    assert probed.allowed("ok.getpid").out == "self"
    assert probed.allowed("ok.fork").out == "7"  # the child's exit code
    assert probed.allowed("ok.thread").out == "ran"
    probed.allowed("ok.personality")
    assert probed.allowed("ok.no_inherited_pipe").out == ""


@pytest.mark.parametrize("provider", ["bwrap"], indirect=True)
def test_a_nested_user_namespace_is_refused(probed: Run, provider: str) -> None:
    """`unshare -U` worked in a sandbox bwrap started as root (only bwrap's unprivileged mode
    forbids it): a nested "root" with the kernel's namespaced code (nf_tables, mount APIs) to
    attack. The filter refuses it in both modes. (Podman's profile allows it in a container.)"""
    probed.refused("userns", "Operation not permitted")


@pytest.mark.skipif(platform.machine() != "x86_64", reason="i386 and x32 are x86_64's ABIs")
@pytest.mark.parametrize("provider", ["bwrap"], indirect=True)
@pytest.mark.parametrize("label", ["abi.i386_getpid", "abi.i386_keyctl", "abi.x32_getpid"])
def test_no_call_passes_through_another_abi(probed: Run, provider: str, label: str) -> None:
    """i386's `int 0x80` (getpid, allowed natively; keyctl, refused natively under another
    number) and x32's numbers: every such call is refused, so none can slip past the list."""
    result = probed.probe(label)
    assert result.rc == errno.EPERM, (label, result)
