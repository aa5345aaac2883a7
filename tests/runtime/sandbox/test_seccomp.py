"""The bwrap sandbox's seccomp filter: the program's shape, its decisions (run by a small
classic-BPF interpreter for both machines), the system call numbers against the kernel's
headers, the program under the real kernel (through bwrap), and the launcher's three ways of
starting a sandbox each handing it over."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import platform
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paddock.domain.sandbox import Limits, Network, Provider
from paddock.runtime.launcher import LaunchSpec, SandboxSpec
from paddock.runtime.sandbox import seccomp
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.cgroups import Hierarchy
from paddock.runtime.sandbox.sandbox_identity import find_user

PROBE = Path(__file__).parents[2] / "security" / "syscalls.py"
EPERM = seccomp.RET_ERRNO | errno.EPERM
ENOSYS = seccomp.RET_ERRNO | errno.ENOSYS
ALLOW = seccomp.RET_ALLOW
MACHINES = sorted(seccomp.MACHINES)
# Calls every program makes: they must pass (x86_64, aarch64 numbers).
EVERYDAY = {
    "x86_64": {"read": 0, "write": 1, "openat": 257, "execve": 59, "fork": 57, "getpid": 39},
    "aarch64": {"read": 63, "write": 64, "openat": 56, "execve": 221, "getpid": 172},
}
X86_ONLY = {"create_module", "query_module", "get_kernel_syms", "iopl", "ioperm", "uselib"}
X86_ONLY |= {"ustat", "sysfs", "_sysctl"}
OTHER_ABIS = {"x86_64": (0x40000003,), "aarch64": (0x40000028,)}  # i386; 32-bit ARM
CLONE_THREAD_FLAGS = 0x003D0F00  # what glibc's pthread_create passes
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
HEADERS = {
    "x86_64": [
        Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
        Path("/usr/include/asm/unistd_64.h"),
    ],
    "aarch64": [Path("/usr/include/asm-generic/unistd.h")],
}


def instructions(program: bytes) -> list[tuple[int, int, int, int]]:
    return list(seccomp.INSTRUCTION.iter_unpack(program))


def run_filter(program: bytes, nr: int, arch: int, arg0: int = 0) -> int:
    """What the kernel would do: classic BPF over struct seccomp_data (the subset filters use)."""
    data = {seccomp.OFFSET_NR: nr, seccomp.OFFSET_ARCH: arch, seccomp.OFFSET_ARG0_LOW: arg0}
    ops = instructions(program)
    accumulator, at = 0, 0
    while True:
        code, jt, jf, k = ops[at]
        if code == seccomp.RET_K:
            return k
        if code == seccomp.LD_W_ABS:
            accumulator = data[k]
            at += 1
            continue
        taken = {
            seccomp.JEQ_K: accumulator == k,
            seccomp.JGE_K: accumulator >= k,
            seccomp.JSET_K: bool(accumulator & k),
        }[code]
        at += 1 + (jt if taken else jf)


@pytest.mark.parametrize("machine", MACHINES)
def test_the_program_checks_the_abi_first_and_stays_small(machine: str) -> None:
    built = seccomp.filter_for(machine)
    assert built is not None
    ops = instructions(built.program)
    assert len(built.program) == 8 * len(ops) <= select.PIPE_BUF
    # One compare per refused call, plus the ABI check, the arguments' checks and the returns.
    assert len(built.refused) + 5 <= len(ops) <= len(built.refused) + 25
    assert ops[0] == (seccomp.LD_W_ABS, 0, 0, seccomp.OFFSET_ARCH)
    code, jt, jf, arch = ops[1]
    assert (code, jt, arch) == (seccomp.JEQ_K, 0, seccomp.MACHINES[machine].audit_arch)
    assert ops[2 + jf] == (seccomp.RET_K, 0, 0, EPERM)  # any other ABI: refused
    assert ops[2] == (seccomp.LD_W_ABS, 0, 0, seccomp.OFFSET_NR)


@pytest.mark.parametrize("machine", MACHINES)
def test_every_blocked_call_has_its_number_on_each_machine(machine: str) -> None:
    numbers = seccomp.MACHINES[machine].numbers
    assert set(numbers) == {call.name for call in seccomp.BLOCKED}
    present = {name: nr for name, nr in numbers.items() if nr is not None}
    assert len(set(present.values())) == len(present)  # no two calls share a number
    missing = {name for name, nr in numbers.items() if nr is None}
    # Only x86's own calls are missing on aarch64 (the generic table never had them).
    assert missing == (set() if machine == "x86_64" else X86_ONLY)
    assert all(call.reason and len(call.reason) < 100 for call in seccomp.BLOCKED)
    built = seccomp.filter_for(machine)
    assert built is not None and set(built.refused) == set(present)


def _header_numbers(machine: str) -> dict[str, int]:
    header = next((path for path in HEADERS[machine] if path.exists()), None)
    if header is None:
        pytest.skip(f"no kernel headers for {machine} here (linux-libc-dev)")
    found = re.findall(r"#define __NR(?:3264)?_(\w+)\s+(\d+)\b", header.read_text())
    return {name: int(nr) for name, nr in found}


@pytest.mark.parametrize("machine", MACHINES)
def test_the_numbers_are_the_kernels(machine: str) -> None:
    kernel = _header_numbers(machine)
    for name, nr in seccomp.MACHINES[machine].numbers.items():
        if nr is None:
            assert name not in kernel, name
        else:
            assert kernel.get(name) == nr, name


@pytest.mark.parametrize("machine", MACHINES)
def test_the_filter_refuses_each_blocked_call_and_lets_the_rest_through(machine: str) -> None:
    spec = seccomp.MACHINES[machine]
    built = seccomp.filter_for(machine)
    assert built is not None
    arch = spec.audit_arch
    for call in seccomp.BLOCKED:
        nr = spec.numbers[call.name]
        if nr is None:
            continue
        expected = {
            seccomp.Rule.refuse: EPERM,
            seccomp.Rule.no_such_call: ENOSYS,
            seccomp.Rule.namespaces: ALLOW,  # with no flags: a plain fork
            seccomp.Rule.personality: ALLOW,  # PER_LINUX
        }[call.rule]
        assert run_filter(built.program, nr, arch) == expected, call.name
    for name, nr in EVERYDAY[machine].items():
        assert run_filter(built.program, nr, arch) == ALLOW, name
    clone = spec.numbers["clone"]
    assert clone is not None
    assert run_filter(built.program, clone, arch, CLONE_THREAD_FLAGS) == ALLOW
    for flags in (CLONE_NEWUSER, CLONE_NEWNET, CLONE_THREAD_FLAGS | CLONE_NEWUSER):
        assert run_filter(built.program, clone, arch, flags) == EPERM
    personality = spec.numbers["personality"]
    assert personality is not None
    for value in seccomp.PERSONALITIES:
        assert run_filter(built.program, personality, arch, value) == ALLOW
    for value in (0x0040000, 0x0400000, 0x1):  # ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, SVR4
        assert run_filter(built.program, personality, arch, value) == EPERM


@pytest.mark.parametrize("machine", MACHINES)
def test_calls_through_another_abi_are_refused(machine: str) -> None:
    built = seccomp.filter_for(machine)
    assert built is not None
    for arch in OTHER_ABIS[machine]:
        for nr in (0, 1, 20, 39, 172, 288, 310):  # everyday calls and blocked ones alike
            assert run_filter(built.program, nr, arch) == EPERM
    if machine == "x86_64":  # x32: the same arch, numbers with bit 30 set
        for nr in (39, 0, 101, 512):
            assert run_filter(built.program, seccomp.X32_BIT | nr, 0xC000003E) == EPERM


def test_an_unknown_machine_gets_no_filter_and_says_so() -> None:
    for machine in ("riscv64", "aarch64_be", "i686", "armv7l"):
        assert seccomp.filter_for(machine) is None
        assert f"machine {machine!r}" in (seccomp.machine_problem(machine) or "")
    assert seccomp.machine_problem("x86_64") is None
    if platform.machine() in seccomp.MACHINES:
        native = seccomp.native_filter()
        assert native is not None and native is seccomp.native_filter()  # built once


def test_a_pipe_holds_the_program_once() -> None:
    built = seccomp.native_filter() or seccomp.filter_for("x86_64")
    assert built is not None
    fd = built.pipe()
    try:
        assert os.read(fd, 65536) == built.program
        assert os.read(fd, 1) == b""  # the write end is closed: end of file
        assert not os.get_inheritable(fd)  # only a launch that passes it on hands it over
    finally:
        os.close(fd)


def _probe_under_bwrap(filtered: bool) -> dict[str, tuple[int, str]]:
    """The probe script as root, with every capability, in a throwaway bwrap sandbox."""
    built = seccomp.native_filter()
    assert built is not None
    machine = seccomp.MACHINES[built.machine]
    numbers = {name: machine.numbers[name] for name in built.refused}
    argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    argv += ["--tmpfs", "/tmp", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    argv += ["--new-session", "--die-with-parent"]
    fd = built.pipe() if filtered else None
    if fd is not None:
        argv += ["--seccomp", str(fd)]
    try:
        done = subprocess.run(
            [*argv, "--", sys.executable, "-", json.dumps(numbers)],
            input=PROBE.read_text(),  # by stdin: a checkout under /tmp is hidden inside
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            pass_fds=() if fd is None else (fd,),
        )
    finally:
        if fd is not None:
            os.close(fd)
    assert done.returncode == 0, done.stderr
    lines = re.findall(r"^([\w.]+): rc=(\d+) ?(.*)$", done.stdout, re.MULTILINE)
    return {label: (int(rc), out) for label, rc, out in lines}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the control holds every capability")
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
@pytest.mark.skipif(seccomp.native_filter() is None, reason="no filter for this machine")
def test_the_kernel_refuses_each_blocked_call_even_to_root() -> None:
    """Root's every capability gets each probe past the kernel's own permission checks (the
    control run: no EPERM anywhere), so an EPERM under the filter is the filter's."""
    control = _probe_under_bwrap(filtered=False)
    filtered = _probe_under_bwrap(filtered=True)
    built = seccomp.native_filter()
    assert built is not None
    for name in built.refused:
        label = f"sys.{name}"
        assert control[label][0] != errno.EPERM, (label, control[label])
        expected = errno.ENOSYS if name == "clone3" else errno.EPERM
        assert filtered[label][0] == expected, (label, filtered[label])
    for label in ("ok.getpid", "ok.personality", "ok.fork", "ok.thread", "ok.no_inherited_pipe"):
        assert filtered[label][0] == 0, (label, filtered[label])
    assert filtered["ok.fork"][1] == "7" and filtered["ok.getpid"][1] == "self"
    if built.machine == "x86_64":
        assert control["abi.i386_getpid"] == (0, "self")  # the other ABI works without it
        for label in ("abi.i386_getpid", "abi.i386_keyctl", "abi.x32_getpid"):
            assert filtered[label][0] == errno.EPERM, (label, filtered[label])


# The launcher: a spare, a launch that joins its cgroup on the way, one without a cgroup.


def _launcher(*, spares: bool, cgroup: bool) -> BwrapLauncher:
    hierarchy = Hierarchy() if cgroup else None
    if hierarchy is not None and not hierarchy.available:
        pytest.skip(f"no cgroups here: {hierarchy.problem}")
    launcher = BwrapLauncher(user=find_user("paddock-sandbox"), hierarchy=hierarchy, spares=spares)
    problem = launcher.problem()
    if problem is not None:
        pytest.skip(f"bwrap cannot run here: {problem}")
    return launcher


async def _run(launcher: BwrapLauncher, cwd: Path, script: str) -> tuple[int, str, str]:
    sandbox = SandboxSpec(Provider.bwrap, Network.none, Limits(pids=64), writable=(cwd,))
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    launched = await launcher.launch(
        LaunchSpec(["/bin/sh", "-c", script], cwd, env, sandbox=sandbox)
    )
    out, err = await asyncio.gather(launched.stdout.read(), launched.stderr.read())
    code = await launched.wait()
    await launched.reap_leftovers(1.0)
    return code, out.decode(), err.decode()


INSIDE = (
    "grep -E '^Seccomp' /proc/self/status; ls /proc/self/fd | tr '\\n' ' '; echo; unshare -U true"
)


@pytest.mark.anyio
@pytest.mark.skipif(seccomp.native_filter() is None, reason="no filter for this machine")
@pytest.mark.parametrize("way", ["spare", "cgroup on the way", "no cgroup"])
async def test_every_way_of_launching_loads_the_filter_and_leaks_no_descriptor(
    way: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[int] = []  # the inodes of the program's pipes
    pipe = seccomp.Filter.pipe

    def recorded(self: seccomp.Filter) -> int:
        fd = pipe(self)
        made.append(os.fstat(fd).st_ino)
        return fd

    monkeypatch.setattr(seccomp.Filter, "pipe", recorded)
    os.chmod(tmp_path, 0o755)
    launcher = _launcher(spares=way == "spare", cgroup=way != "no cgroup")
    try:
        for _ in range(3):  # each spare holds a pipe of its own: every launch gets the program
            if launcher.spares is not None:
                await _ready(launcher)
            code, out, err = await _run(launcher, tmp_path, INSIDE)
            lines = out.splitlines()
            assert lines[:2] == ["Seccomp:\t2", "Seccomp_filters:\t1"], (out, err)
            assert lines[2].split() == ["0", "1", "2", "3"]  # ls's own dir is 3: no pipe left
            assert code != 0 and "Operation not permitted" in err  # unshare -U
    finally:
        await launcher.settle()  # no spare left half-made at the loop's end
        launcher.close()
    assert len(made) >= 3
    # The server kept no copy: none of its descriptors is one of those pipes.
    assert not set(made) & {_inode(fd) for fd in os.listdir("/proc/self/fd")}


def _inode(fd: str) -> int | None:
    try:
        return os.fstat(int(fd)).st_ino
    except OSError:  # the listing's own descriptor, closed meanwhile
        return None


async def _ready(launcher: BwrapLauncher) -> None:
    pool = launcher.spares
    assert pool is not None
    pool.fill_later()
    for _ in range(500):
        if pool.ready:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no spare became ready: {pool.problem}")
