"""The bwrap sandbox's seccomp filter: the system calls a sandboxed process may not make.

Anchored on Docker's default profile. Docker lists what a container may call; this filter lists
what it may not: the calls Docker refuses a container that holds no extra capability (module
loading, kexec, mounts and namespaces, keyrings, BPF and perf, time, swap, accounting, raw I/O,
NUMA policy, obsolete calls), plus `ptrace`, which Docker allows on kernels from 4.8 on. A call
added to the kernel later is therefore allowed; the sandbox's other walls (no capabilities, no
new privileges, an unprivileged uid) still hold for it.

A refused call fails with EPERM, as in Docker, so programs degrade instead of dying; `clone3`
fails with ENOSYS, so the C library falls back to `clone`, whose flags the filter can read
(`clone` with a namespace flag: EPERM). `personality` keeps the values Docker allows.

Only the machine's native calling convention passes: the numbers below are the native ones, so
a call made through another ABI (i386's `int 0x80` or x32 on x86_64, 32-bit ARM on aarch64)
could reach a refused call under a number the list does not know. Every such call fails with
EPERM.

The program is classic BPF over the kernel's `struct seccomp_data`, as `struct sock_filter`
instructions in native byte order: what bwrap loads with `--seccomp FD`. It is built once per
process (`native_filter`); each launch reads it from a pipe of its own (`Filter.pipe`).
"""

from __future__ import annotations

import errno
import os
import platform
import select
import struct
from dataclasses import dataclass, field
from enum import Enum
from functools import cache


class Rule(Enum):
    refuse = "refuse"  # EPERM, whatever the arguments
    no_such_call = "no_such_call"  # ENOSYS: the C library falls back to an older call
    namespaces = "namespaces"  # EPERM when the flags (argument 0) ask for a new namespace
    personality = "personality"  # EPERM unless argument 0 is one of PERSONALITIES


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    x86_64: int | None  # its number on each machine; None: no such call there
    aarch64: int | None  # (aarch64 has the kernel's generic table, asm-generic/unistd.h)
    reason: str
    rule: Rule = Rule.refuse


BLOCKED: tuple[Call, ...] = (
    # Other processes (Docker: CAP_SYS_PTRACE). The pid namespace hides the host's, not the
    # sandbox's own neighbours (a dev server holding an agent's key, a test runner).
    Call("ptrace", 101, 117, "trace or rewrite another process (Docker allows it on 4.8+)"),
    Call("process_vm_readv", 310, 270, "read another process's memory"),
    Call("process_vm_writev", 311, 271, "write another process's memory"),
    Call("kcmp", 312, 272, "compare kernel objects of other processes: a probe of their state"),
    Call("pidfd_getfd", 438, 438, "take a copy of another process's file descriptor"),
    Call("process_madvise", 440, 440, "act on another process's memory"),
    # Keyrings are not namespaced: the host's keys, and the kernel's key types' code.
    Call("keyctl", 250, 219, "the kernel keyring, shared with the host"),
    Call("add_key", 248, 217, "add a key to the kernel keyring, shared with the host"),
    Call("request_key", 249, 218, "ask the kernel (and its upcall helpers) for a key"),
    # Mounts and namespaces (CAP_SYS_ADMIN): the locked mounts stay locked, and nested user
    # namespaces open kernel code (nf_tables, mount APIs) to the sandbox.
    Call("mount", 165, 40, "mount file systems"),
    Call("umount2", 166, 39, "unmount file systems"),
    Call("pivot_root", 155, 41, "change the root file system"),
    Call("fsopen", 430, 430, "the new mount API: open a file system context"),
    Call("fsconfig", 431, 431, "the new mount API: configure a file system context"),
    Call("fsmount", 432, 432, "the new mount API: mount a file system context"),
    Call("fspick", 433, 433, "the new mount API: reconfigure a mounted file system"),
    Call("move_mount", 429, 429, "the new mount API: attach or move a mount"),
    Call("open_tree", 428, 428, "the new mount API: open or clone a mount tree"),
    Call("mount_setattr", 442, 442, "change a mount's attributes"),
    Call("unshare", 272, 97, "new namespaces (user, mount, network ...) for the calling process"),
    Call("setns", 308, 268, "join another namespace"),
    Call("clone", 56, 220, "a child in new namespaces (forks, threads pass)", Rule.namespaces),
    # clone3's flags sit in memory a filter cannot read: ENOSYS, and the C library uses clone.
    Call("clone3", 435, 435, "clone with flags out of the filter's sight", Rule.no_such_call),
    # Kernel code: loaders, JIT, tracing, the io_uring submission path (Docker since 2023).
    Call("bpf", 321, 280, "load BPF programs and maps into the kernel"),
    Call("perf_event_open", 298, 241, "kernel and hardware performance events: a side channel"),
    Call("userfaultfd", 323, 282, "page faults handled in user space: a tool of kernel exploits"),
    Call("io_uring_setup", 425, 425, "io_uring: a second call path, out of seccomp's sight"),
    Call("io_uring_enter", 426, 426, "io_uring: a second call path, out of seccomp's sight"),
    Call("io_uring_register", 427, 427, "io_uring: a second call path, out of seccomp's sight"),
    Call("kexec_load", 246, 104, "load a new kernel to boot"),
    Call("kexec_file_load", 320, 294, "load a new kernel to boot"),
    Call("reboot", 169, 142, "reboot or halt the machine"),
    Call("init_module", 175, 105, "load a kernel module"),
    Call("finit_module", 313, 273, "load a kernel module"),
    Call("delete_module", 176, 106, "unload a kernel module"),
    Call("create_module", 174, None, "obsolete module loader"),
    Call("query_module", 178, None, "obsolete module query"),
    Call("get_kernel_syms", 177, None, "obsolete kernel symbol table"),
    # File handles bypass the path walk: open_by_handle_at escaped containers in 2014.
    Call("open_by_handle_at", 304, 265, "open a file by handle, past the mounts that hide it"),
    Call("name_to_handle_at", 303, 264, "make file handles (the other half of open_by_handle_at)"),
    # Time is not namespaced.
    Call("settimeofday", 164, 170, "set the host's clock"),
    Call("clock_settime", 227, 112, "set the host's clock"),
    Call("clock_adjtime", 305, 266, "adjust the host's clock"),
    Call("adjtimex", 159, 171, "adjust the host's clock (reading it needs no such call)"),
    # The machine as a whole.
    Call("swapon", 167, 224, "add swap space"),
    Call("swapoff", 168, 225, "remove swap space"),
    Call("acct", 163, 89, "switch process accounting"),
    Call("quotactl", 179, 60, "disk quotas"),
    Call("quotactl_fd", 443, 443, "disk quotas"),
    Call("syslog", 103, 116, "the kernel's log buffer (addresses, other tenants' messages)"),
    Call("vhangup", 153, 58, "hang up the terminal"),
    Call("sethostname", 170, 161, "the host name (the sandbox's is fixed)"),
    Call("setdomainname", 171, 162, "the NIS domain name (the sandbox's is fixed)"),
    Call("lookup_dcookie", 212, 18, "profiling cookies: paths of other processes' files"),
    Call("nfsservctl", 180, 42, "the kernel NFS server (removed from kernels)"),
    Call("fanotify_init", 300, 262, "watch file access across the whole file system"),
    Call("iopl", 172, None, "raw I/O port access"),
    Call("ioperm", 173, None, "raw I/O port access"),
    # NUMA memory policy (Docker: CAP_SYS_NICE): the host's memory placement.
    Call("mbind", 237, 235, "NUMA memory policy"),
    Call("get_mempolicy", 239, 236, "NUMA memory policy"),
    Call("set_mempolicy", 238, 237, "NUMA memory policy"),
    Call("set_mempolicy_home_node", 450, 450, "NUMA memory policy"),
    Call("move_pages", 279, 239, "move pages between NUMA nodes"),
    Call("migrate_pages", 256, 238, "move another process's pages between NUMA nodes"),
    # Obsolete calls nobody needs and old kernels had bugs in.
    Call("uselib", 134, None, "obsolete library loader"),
    Call("ustat", 136, None, "obsolete file system statistics"),
    Call("sysfs", 139, None, "obsolete file system type lookup"),
    Call("_sysctl", 156, None, "obsolete sysctl interface"),
    # personality: only the values Docker allows (ADDR_NO_RANDOMIZE would turn ASLR off).
    Call("personality", 135, 92, "execution domains other than Linux's", Rule.personality),
)

# clone flags that make a new namespace: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER,
# NEWPID, NEWNET (Docker's mask). CLONE_NEWTIME is only valid in unshare and clone3.
NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000
NAMESPACE_FLAGS |= 0x20000000 | 0x40000000
# personality values Docker allows: PER_LINUX, PER_LINUX32, UNAME26, both, and the query.
PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class Machine:
    name: str
    audit_arch: int  # seccomp_data.arch of the native ABI (AUDIT_ARCH_*)
    numbers: dict[str, int | None] = field(repr=False)
    x32: bool = False  # numbers with bit 30 set are another ABI under the same arch


MACHINES = {
    "x86_64": Machine("x86_64", 0xC000003E, {c.name: c.x86_64 for c in BLOCKED}, x32=True),
    "aarch64": Machine("aarch64", 0xC00000B7, {c.name: c.aarch64 for c in BLOCKED}),
}
X32_BIT = 0x40000000

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
OFFSET_NR = 0
OFFSET_ARCH = 4
OFFSET_ARG0_LOW = 16 if struct.pack("=I", 1) == struct.pack("<I", 1) else 20

# Classic BPF opcodes (linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
LD_W_ABS = 0x00 | 0x00 | 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ_K = 0x05 | 0x10  # BPF_JMP | BPF_JEQ | BPF_K
JGE_K = 0x05 | 0x30
JSET_K = 0x05 | 0x40
RET_K = 0x06
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
INSTRUCTION = struct.Struct("=HBBI")  # struct sock_filter: code, jt, jf, k
MAX_JUMP = 255


@dataclass(frozen=True, slots=True)
class _Op:
    code: int
    k: int = 0
    jt: str | None = None  # a label; None: the next instruction
    jf: str | None = None


def build(machine: Machine) -> bytes:
    """The filter program for `machine`: arch check, then the call number against the list."""
    deny, enosys, allow = "deny", "enosys", "allow"
    targets = {
        Rule.refuse: deny,
        Rule.no_such_call: enosys,
        Rule.namespaces: "clone",
        Rule.personality: "personality",
    }
    ops: list[_Op | str] = [
        _Op(LD_W_ABS, OFFSET_ARCH),
        _Op(JEQ_K, machine.audit_arch, jf=deny),  # another ABI: refused
        _Op(LD_W_ABS, OFFSET_NR),
    ]
    if machine.x32:
        ops.append(_Op(JGE_K, X32_BIT, jt=deny))
    for call in BLOCKED:
        number = machine.numbers[call.name]
        if number is not None:
            ops.append(_Op(JEQ_K, number, jt=targets[call.rule]))
    ops.append(_Op(RET_K, RET_ALLOW))
    ops += ["clone", _Op(LD_W_ABS, OFFSET_ARG0_LOW), _Op(JSET_K, NAMESPACE_FLAGS, deny, allow)]
    ops += ["personality", _Op(LD_W_ABS, OFFSET_ARG0_LOW)]
    ops += [_Op(JEQ_K, value, jt=allow) for value in PERSONALITIES]
    ops += [deny, _Op(RET_K, RET_ERRNO | errno.EPERM)]
    ops += [enosys, _Op(RET_K, RET_ERRNO | errno.ENOSYS)]
    ops += [allow, _Op(RET_K, RET_ALLOW)]
    return _assemble(ops)


def _assemble(ops: list[_Op | str]) -> bytes:
    labels: dict[str, int] = {}
    program: list[_Op] = []
    for op in ops:
        if isinstance(op, str):
            labels[op] = len(program)
        else:
            program.append(op)

    def offset(at: int, label: str | None) -> int:
        if label is None:
            return 0
        distance = labels[label] - at - 1
        if not 0 <= distance <= MAX_JUMP:
            raise ValueError(f"seccomp program: a jump to {label} spans {distance} instructions")
        return distance

    return b"".join(
        INSTRUCTION.pack(op.code, offset(at, op.jt), offset(at, op.jf), op.k)
        for at, op in enumerate(program)
    )


@dataclass(frozen=True, slots=True)
class Filter:
    """The program for this machine, and what it refuses."""

    machine: str
    program: bytes
    refused: tuple[str, ...]  # the blocked calls that exist here

    def pipe(self) -> int:
        """A new pipe's read end holding the program, its write end closed: bwrap reads it to
        the end and closes it. The program fits a pipe's atomic write, so nothing blocks."""
        read_fd, write_fd = os.pipe()
        try:
            os.write(write_fd, self.program)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        return read_fd


def machine_problem(name: str) -> str | None:
    """Why no filter is built for machine `name` (platform.machine()); None when one is."""
    if name in MACHINES:
        return None
    known = ", ".join(MACHINES)
    return f"no system call table for machine {name!r} (only {known})"


def describe(installed: Filter | None) -> str:
    """What `paddock doctor` says of the filter sandboxes get here (or why they get none)."""
    if installed is None:
        return f"NO seccomp filter: {machine_problem(platform.machine())}"
    return f"seccomp filter: {len(installed.refused)} system calls refused"


@cache
def native_filter() -> Filter | None:
    """This machine's filter, built once per process; None on a machine without a table."""
    return filter_for(platform.machine())


def filter_for(name: str) -> Filter | None:
    machine = MACHINES.get(name)
    if machine is None:
        return None
    program = build(machine)
    if len(program) > select.PIPE_BUF:
        raise ValueError(f"seccomp program of {len(program)} bytes does not fit a pipe write")
    refused = tuple(c.name for c in BLOCKED if machine.numbers[c.name] is not None)
    return Filter(machine.name, program, refused)
