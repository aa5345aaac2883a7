"""Tries system calls the way a program inside a sandbox would: a standalone script (standard
library only: it runs under whatever python3 the sandbox has), fed the call numbers as JSON.

    python3 syscalls.py '{"ptrace": 101, ...}'

prints one line per call in the escape suite's probe format, `sys.<name>: rc=<errno> <return
value>` (rc 0: the call succeeded), then the controls (calls that must keep working under the
filter) and, on x86_64, calls through the other ABIs (`abi.*`).

The arguments of each blocked call are chosen so that the kernel turns the call down (or lets it
through) with something other than EPERM wherever its own checks come before the capability
checks, and so that nothing changes even where they succeed (run as root, without a filter, by
tests/runtime/sandbox/test_seccomp.py): an unknown request, a bad flag, a missing path, a
descriptor of -1. Some calls check capabilities first ("capability first" below): a caller
without them gets EPERM from the kernel itself, filter or not; the same arguments run as root
tell the filter's EPERM apart.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import platform
import struct
import sys
import threading
from typing import Any

PID = "pid"  # replaced by the caller's pid
MISSING = b"/nonexistent-paddock-probe"
CLONE_NEWUSER = 0x10000000
CLONE_FS = 0x00000200
SIGCHLD = 17
ADDR_NO_RANDOMIZE = 0x0040000


class Zeros:
    """A zeroed buffer of `size` bytes, passed by address."""

    def __init__(self, size: int) -> None:
        self.size = size


class Timeval:
    """A struct timeval with an invalid tv_usec (-1): EINVAL before any capability check."""


ARGS: dict[str, tuple[Any, ...]] = {
    "ptrace": (0xDEAD, PID, 0, 0),  # unknown request, caller not traced: ESRCH
    "process_vm_readv": (PID, None, 0, None, 0, 1),  # flags must be 0: EINVAL
    "process_vm_writev": (PID, None, 0, None, 0, 1),
    "kcmp": (PID, PID, 0xDEAD, 0, 0),  # unknown type: EINVAL
    "pidfd_getfd": (-1, 0, 0),  # EBADF
    "process_madvise": (-1, None, 0, 0, 0),  # EBADF
    "keyctl": (0xDEAD, 0, 0, 0, 0),  # unknown operation: EOPNOTSUPP
    "add_key": (None, None, None, 0, 0),  # no type: EFAULT
    "request_key": (None, None, None, 0),  # no type: EFAULT
    "mount": (b"none", MISSING, b"tmpfs", 0, None),  # no mount point: ENOENT
    "umount2": (MISSING, 0x100),  # unknown flag: EINVAL
    "pivot_root": (MISSING, MISSING),  # ENOENT (capability first)
    "fsopen": (b"paddock-no-such-fs", 0),  # ENODEV (capability first)
    "fsconfig": (-1, 0, None, None, 0),  # EINVAL/EBADF
    "fsmount": (-1, 0, 0),  # EBADF (capability first)
    "fspick": (-1, MISSING, 0),  # EBADF (capability first)
    "move_mount": (-1, MISSING, -1, MISSING, 0),  # (capability first)
    "open_tree": (-100, MISSING, 0),  # AT_FDCWD, no such path: ENOENT
    "mount_setattr": (-1, b"", 0, None, 0),  # size 0: EINVAL
    "unshare": (0x80000000, 0, 0),  # CLONE_IO cannot be unshared: EINVAL
    "setns": (-1, 0),  # EBADF
    "clone": (CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0),  # a forbidden combination: EINVAL
    "clone3": (None, 0),  # no arguments: EINVAL (the filter: ENOSYS)
    "bpf": (0xDEAD, None, 0),  # unknown command: EINVAL
    "perf_event_open": (None, 0, -1, -1, 0xDEAD0000),  # unknown flags: EINVAL
    "userfaultfd": (1,),  # UFFD_USER_MODE_ONLY: allowed unprivileged, a descriptor
    "io_uring_setup": (0, None),  # no entries: EFAULT/EINVAL
    "io_uring_enter": (-1, 0, 0, 0, None, 0),  # EBADF
    "io_uring_register": (-1, 0, None, 0),  # EBADF
    "kexec_load": (0, 0xFFFF, None, 0xDEAD0000),  # (capability first)
    "kexec_file_load": (-1, -1, 0, None, 0xDEAD0000),  # (capability first)
    "reboot": (0, 0, 0, None),  # wrong magic: EINVAL (capability first)
    "init_module": (None, 0, b""),  # empty image: ENOEXEC (capability first)
    "finit_module": (-1, b"", 0),  # EBADF (capability first)
    "delete_module": (b"paddock_no_such_module", 0o4000),  # ENOENT (capability first)
    "create_module": (None, 0),  # gone from kernels: ENOSYS
    "query_module": (None, 0, None, 0, None),  # ENOSYS
    "get_kernel_syms": (None,),  # ENOSYS
    "open_by_handle_at": (-1, None, 0),  # EBADF/EFAULT (capability first)
    "name_to_handle_at": (-100, b"/", Zeros(8), Zeros(8), 0),  # no room: EOVERFLOW
    "settimeofday": (Timeval(), None),  # EINVAL
    "clock_settime": (0xDEAD, Zeros(16)),  # unknown clock: EINVAL
    "clock_adjtime": (0xDEAD, Zeros(512)),  # unknown clock: EINVAL
    "adjtimex": (Zeros(512),),  # modes 0: reads the clock's state
    "swapon": (MISSING, -1),  # unknown flags: EINVAL
    "swapoff": (MISSING,),  # ENOENT (capability first)
    "acct": (MISSING,),  # ENOENT (capability first)
    "quotactl": (0x7F, None, 0, None),  # unknown quota type: EINVAL
    "quotactl_fd": (-1, 0x7F, 0, None),  # EINVAL/EBADF
    "syslog": (0xDEAD, None, 0),  # unknown action: EINVAL (capability first)
    "vhangup": (),  # no terminal (bwrap's --new-session): 0 (capability first)
    "sethostname": (None, 1000),  # too long: EINVAL (capability first)
    "setdomainname": (None, 1000),  # too long: EINVAL (capability first)
    "lookup_dcookie": (0, None, 0),  # gone from kernels: ENOSYS
    "nfsservctl": (0, None, None),  # ENOSYS
    "fanotify_init": (0x200, 0),  # FAN_REPORT_FID: allowed unprivileged, a descriptor
    "iopl": (4,),  # levels are 0-3: EINVAL
    "ioperm": (0x10000, 1, 0),  # past the last port: EINVAL
    "mbind": (0, 0, 0, None, 0, 0),  # nothing: 0
    "get_mempolicy": (None, None, 0, 0, 0),  # the policy: 0
    "set_mempolicy": (0, None, 0),  # MPOL_DEFAULT: 0
    "set_mempolicy_home_node": (0, 0, 0xDEAD, 0),  # unknown node: EINVAL
    "move_pages": (0, 0, None, None, None, 0),  # no pages: 0
    "migrate_pages": (PID, 0, None, None),  # no nodes: 0 or EINVAL
    "uselib": (MISSING,),  # ENOSYS or ENOENT
    "ustat": (0, Zeros(64)),  # EINVAL
    "sysfs": (0xDEAD, 0, 0),  # unknown option: EINVAL
    "_sysctl": (None,),  # gone from kernels: ENOSYS
    "personality": (ADDR_NO_RANDOMIZE,),  # turns ASLR off: allowed without the filter
}
# Native numbers the controls use (x86_64, aarch64).
GETPID = {"x86_64": 39, "aarch64": 172}
CLONE = {"x86_64": 56, "aarch64": 220}
PERSONALITY = {"x86_64": 135, "aarch64": 92}
I386_GETPID = 20
I386_KEYCTL = 288
X32_BIT = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def _arg(value: Any, keep: list[Any]) -> Any:
    if value is None:
        return ctypes.c_void_p(None)
    if value == PID:
        return ctypes.c_long(os.getpid())
    if isinstance(value, int):
        return ctypes.c_long(value)
    if isinstance(value, bytes):
        buffer = ctypes.create_string_buffer(value)
    elif isinstance(value, Zeros):
        buffer = ctypes.create_string_buffer(value.size)
    else:  # Timeval: tv_sec 0, tv_usec -1
        buffer = ctypes.create_string_buffer(struct.pack("=ql", 0, -1))
    keep.append(buffer)
    return ctypes.cast(buffer, ctypes.c_void_p)


def syscall(number: int, *args: Any) -> tuple[int, int]:
    """(errno, return value) of the raw call; errno 0 when it succeeded."""
    keep: list[Any] = []
    converted = [_arg(arg, keep) for arg in args]
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(number), *converted)
    return (ctypes.get_errno() if result == -1 else 0), result


def show(label: str, code: int, value: object) -> None:
    print(f"{label}: rc={code} {value}", flush=True)


def blocked(numbers: dict[str, int]) -> None:
    for name, number in numbers.items():
        code, result = syscall(number, *ARGS[name])
        show(f"sys.{name}", code, result)
        if code == 0 and name in ("userfaultfd", "fanotify_init") and result >= 0:
            os.close(result)


def controls(machine: str) -> None:
    code, result = syscall(GETPID[machine])
    show("ok.getpid", code, "self" if result == os.getpid() else result)
    code, result = syscall(PERSONALITY[machine], 0xFFFFFFFF)  # the query Docker allows
    show("ok.personality", code, result)
    code, child = syscall(CLONE[machine], SIGCHLD, 0, 0, 0, 0)  # a plain fork
    if code == 0 and child == 0:
        os._exit(7)
    status = os.waitpid(child, 0)[1] if code == 0 else -1
    show("ok.fork", code, os.waitstatus_to_exitcode(status) if code == 0 else status)
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(threading.get_native_id()))
    thread.start()  # glibc: clone3, then clone when that is ENOSYS
    thread.join()
    show("ok.thread", 0 if seen else 1, "ran" if seen else "did not run")
    leaked = []
    for fd in os.listdir("/proc/self/fd"):
        if int(fd) > 2:
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:  # the directory listing's own descriptor, closed meanwhile
                continue
            if target.startswith("pipe:"):
                leaked.append(fd)
    show("ok.no_inherited_pipe", len(leaked), ",".join(leaked))


def other_abis() -> None:
    """x86_64: i386 calls (`int 0x80`, through code of our own) and an x32 number."""
    for label, number, ebx in (
        ("abi.i386_getpid", I386_GETPID, 0),
        ("abi.i386_keyctl", I386_KEYCTL, 0xDEAD),
    ):
        # push rbx; mov eax, number; mov ebx, ebx; int 0x80; pop rbx; ret
        machine_code = b"\x53\xb8%s\xbb%s\xcd\x80\x5b\xc3" % (
            number.to_bytes(4, "little"),
            ebx.to_bytes(4, "little"),
        )
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        page.write(machine_code)
        address = ctypes.addressof(ctypes.c_char.from_buffer(page))
        result = ctypes.CFUNCTYPE(ctypes.c_int)(address)()
        errno_ = -result if -4096 < result < 0 else 0
        show(label, errno_, "self" if result == os.getpid() else result)
    code, result = syscall(X32_BIT | GETPID["x86_64"])
    show("abi.x32_getpid", code, result)


def main() -> None:
    numbers: dict[str, int] = json.loads(sys.argv[1])
    machine = platform.machine()
    blocked(numbers)
    controls(machine)
    if machine == "x86_64":
        other_abis()


if __name__ == "__main__":
    main()
