"""Opening a path beneath the root of a tree an agent wrote, through no symlink: `openat2` with
RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS where the kernel has it (5.6+),
else component by component with O_NOFOLLOW, each directory opened from the last one. A link
anywhere on the way, or a path leading out, is refused (UnsafePath). See safefs/__init__.py.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from paddock.domain.errors import Conflict

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a fifo must not block


class UnsafePath(Conflict):
    """A path in an agent-controlled tree leads through a symlink, out of the tree, or to
    something that is not a regular file: the server refuses to follow it."""

    code = "unsafe_path"


# --- openat2 -------------------------------------------------------------------------------------

_SYS_OPENAT2 = {"x86_64": 437, "aarch64": 437, "arm64": 437}.get(platform.machine())
_RESOLVE = 0x02 | 0x04 | 0x08  # RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def _openat2(dir_fd: int, path: str, flags: int) -> int:
    """openat2(2) with the strict resolve flags; OSError as os.open raises it."""
    assert _SYS_OPENAT2 is not None
    how = _OpenHow(flags, 0, _RESOLVE)
    for _ in range(16):  # EAGAIN: a rename raced the lookup; the kernel asks to try again
        fd = _syscall(
            ctypes.c_long(_SYS_OPENAT2),
            ctypes.c_long(dir_fd),
            ctypes.c_char_p(os.fsencode(path)),
            ctypes.byref(how),
            ctypes.c_size_t(ctypes.sizeof(how)),
        )
        if fd >= 0:
            return int(fd)
        code = ctypes.get_errno()
        if code not in (errno.EAGAIN, errno.EINTR):
            raise OSError(code, os.strerror(code), path)
    raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN), path)


def _probe_openat2() -> bool:
    if _SYS_OPENAT2 is None:
        return False
    root = os.open("/", DIR_FLAGS)
    try:
        os.close(_openat2(root, ".", DIR_FLAGS))
    except OSError:  # ENOSYS (older kernel), EPERM (a seccomp filter): walk by components
        return False
    finally:
        os.close(root)
    return True


HAVE_OPENAT2 = _probe_openat2()


# --- paths ---------------------------------------------------------------------------------------


def parts_of(relative: str | PurePosixPath) -> list[str]:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts:
        raise UnsafePath(f"{relative} leads outside its tree", path=str(relative))
    return [part for part in path.parts if part != "."]


def refused(relative: str, exc: OSError) -> UnsafePath:
    return UnsafePath(
        f"{relative} leads through a symlink (Paddock never follows links in an agent's files)",
        path=relative,
        reason=exc.strerror or str(exc),
    )


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def open_root(root: Path) -> int:
    """A directory fd of `root` (the server's own path to the tree; its last component is
    not followed either)."""
    return os.open(root, DIR_FLAGS)


def open_beneath(root_fd: int, parts: list[str], flags: int, relative: str) -> int:
    """Open `parts` under `root_fd`, refusing any symlink on the way (UnsafePath)."""
    if not parts:
        return os.open(".", flags, dir_fd=root_fd)
    if HAVE_OPENAT2:
        try:
            return _openat2(root_fd, "/".join(parts), flags)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EXDEV):
                raise refused(relative, exc) from None
            if exc.errno == errno.ENOTDIR and _through_link(root_fd, parts):
                raise refused(relative, exc) from None
            raise
    fd = os.dup(root_fd)
    try:
        for part in parts[:-1]:
            fd = _replace(fd, _step(fd, part, DIR_FLAGS, relative))
        return _step(fd, parts[-1], flags, relative)
    finally:
        os.close(fd)


def _step(dir_fd: int, name: str, flags: int, relative: str) -> int:
    """Open `name` in `dir_fd`, never following it (UnsafePath when it is a link)."""
    try:
        return os.open(name, flags | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.ENOTDIR and _is_link(dir_fd, name)):
            raise refused(relative, exc) from None
        raise


def _replace(old: int, new: int) -> int:
    os.close(old)
    return new


def _through_link(root_fd: int, parts: list[str]) -> bool:
    """Whether `parts` meets a link (openat2 says ENOTDIR for one where a directory was
    asked for, as for a file)."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            if _is_link(fd, part):
                return True
            try:
                fd = _replace(fd, os.open(part, DIR_FLAGS, dir_fd=fd))
            except OSError:
                return False
        return False
    finally:
        os.close(fd)


@contextlib.contextmanager
def open_dir(root: Path, parts: list[str], relative: str, *, create: bool = False) -> Iterator[int]:
    """The directory `parts` under `root` as an fd (made, one level at a time, with `create`)."""
    fd = open_root(root)
    try:
        if not create:
            fd = _replace(fd, open_beneath(fd, parts, DIR_FLAGS, relative))
        else:
            for part in parts:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                fd = _replace(fd, _step(fd, part, DIR_FLAGS, relative))
    except BaseException:
        os.close(fd)
        raise
    try:
        yield fd
    finally:
        os.close(fd)
