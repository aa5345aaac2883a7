"""Reading and writing inside a tree a sandbox wrote, without ever following its symlinks.

The server runs as root (or as the user), and an attempt's worktree, an agent's HOME and a
process's artifact folder are written by a sandboxed agent: hostile input. A path joined onto
such a tree and opened the usual way follows any symlink in any of its components, so a link the
agent committed or left behind would make the server read a host file (and show or store it) or
write one (as root). Every host-side read and write of such a tree goes through here instead:

- a path is opened relative to a directory fd of its tree, one that is never left: `openat2`
  with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS where the kernel has it
  (5.6+), else component by component with O_NOFOLLOW, each directory opened from the last one;
- a symlink anywhere on the way is refused (`UnsafePath`, code `unsafe_path`), as is anything
  that is not a regular file where a file is read or replaced (a fifo, a device, a directory);
- a file is written to a new name first (O_CREAT|O_EXCL) and renamed into place, so neither a
  link nor a hard link at the destination is ever written through;
- reads are capped (`FileTooLarge`, code `file_too_large`);
- `walk` lists a tree from directory fds, so a directory swapped for a link between listing and
  use cannot lead outside it.

Only the root of a tree is given by path, and it is the server's own (e.g. the worktree's dir).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from paddock.domain.errors import Conflict, InvalidInput

CHUNK = 1 << 20
MAX_DEPTH = 256  # levels `walk` descends (each holds a directory fd while it is walked)

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a fifo must not block


class UnsafePath(Conflict):
    """A path in an agent-controlled tree leads through a symlink, out of the tree, or to
    something that is not a regular file: the server refuses to follow it."""

    code = "unsafe_path"


class FileTooLarge(InvalidInput):
    code = "file_too_large"


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
    root = os.open("/", _DIR)
    try:
        os.close(_openat2(root, ".", _DIR))
    except OSError:  # ENOSYS (older kernel), EPERM (a seccomp filter): walk by components
        return False
    finally:
        os.close(root)
    return True


HAVE_OPENAT2 = _probe_openat2()


# --- paths ---------------------------------------------------------------------------------------


def _parts(relative: str | PurePosixPath) -> list[str]:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts:
        raise UnsafePath(f"{relative} leads outside its tree", path=str(relative))
    return [part for part in path.parts if part != "."]


def _refused(relative: str, exc: OSError) -> UnsafePath:
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
    return os.open(root, _DIR)


def _open_beneath(root_fd: int, parts: list[str], flags: int, relative: str) -> int:
    """Open `parts` under `root_fd`, refusing any symlink on the way (UnsafePath)."""
    if not parts:
        return os.open(".", flags, dir_fd=root_fd)
    if HAVE_OPENAT2:
        try:
            return _openat2(root_fd, "/".join(parts), flags)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EXDEV):
                raise _refused(relative, exc) from None
            if exc.errno == errno.ENOTDIR and _through_link(root_fd, parts):
                raise _refused(relative, exc) from None
            raise
    fd = os.dup(root_fd)
    try:
        for part in parts[:-1]:
            fd = _replace(fd, _step(fd, part, _DIR, relative))
        return _step(fd, parts[-1], flags, relative)
    finally:
        os.close(fd)


def _step(dir_fd: int, name: str, flags: int, relative: str) -> int:
    """Open `name` in `dir_fd`, never following it (UnsafePath when it is a link)."""
    try:
        return os.open(name, flags | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.ENOTDIR and _is_link(dir_fd, name)):
            raise _refused(relative, exc) from None
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
                fd = _replace(fd, os.open(part, _DIR, dir_fd=fd))
            except OSError:
                return False
        return False
    finally:
        os.close(fd)


@contextlib.contextmanager
def _dir(root: Path, parts: list[str], relative: str, *, create: bool = False) -> Iterator[int]:
    """The directory `parts` under `root` as an fd (made, one level at a time, with `create`)."""
    fd = open_root(root)
    try:
        if not create:
            fd = _replace(fd, _open_beneath(fd, parts, _DIR, relative))
        else:
            for part in parts:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                fd = _replace(fd, _step(fd, part, _DIR, relative))
    except BaseException:
        os.close(fd)
        raise
    try:
        yield fd
    finally:
        os.close(fd)


# --- reading -------------------------------------------------------------------------------------


def open_read(root: Path, relative: str) -> BinaryIO:
    """The regular file `relative` under `root`, open for reading (UnsafePath: a link on the
    way, or not a regular file; FileNotFoundError: nothing there)."""
    root_fd = open_root(root)
    try:
        fd = _open_beneath(root_fd, _parts(relative), _READ, relative)
    finally:
        os.close(root_fd)
    return _regular(fd, relative)


def _regular(fd: int, relative: str) -> BinaryIO:
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePath(f"{relative} is not a regular file", path=relative)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(root: Path, relative: str, *, limit: int) -> bytes:
    """The content of the regular file `relative` under `root`, at most `limit` bytes
    (FileTooLarge past it)."""
    with open_read(root, relative) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(
            f"{relative} is larger than {limit} bytes", path=relative, limit_bytes=limit
        )
    return data


def lstat(root: Path, relative: str) -> os.stat_result | None:
    """What is at `relative` under `root` (a link itself, not what it points to); None when
    nothing is. UnsafePath when a directory on the way is a link."""
    parts = _parts(relative)
    if not parts:
        return os.stat(root, follow_symlinks=False)
    try:
        with _dir(root, parts[:-1], relative) as fd:
            return os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None


# --- writing -------------------------------------------------------------------------------------


def makedirs(root: Path, relative: str) -> None:
    """Make the directory `relative` under `root` and its parents, through no link."""
    with _dir(root, _parts(relative), relative, create=True):
        pass


def write_bytes(
    root: Path, relative: str, data: bytes, *, mode: int = 0o644, over_links: bool = False
) -> None:
    """Put `data` at `relative` under `root` (parents made), replacing a regular file there.
    Anything else there is refused (UnsafePath); with `over_links`, a link or special file is
    replaced too (itself, never what it points to). A directory there always fails."""
    with _writer(root, relative, mode, over_links=over_links) as fh:
        fh.write(data)


def copy_in(source: Path, root: Path, relative: str) -> None:
    """Copy the file `source` (the server's own) to `relative` under `root` (parents made),
    with its permission bits (no setuid) and times, as shutil.copy2 would, through no link."""
    with open(source, "rb") as src:
        info = os.fstat(src.fileno())
        with _writer(root, relative, stat.S_IMODE(info.st_mode) & 0o777) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
            dst.flush()
            os.utime(dst.fileno(), ns=(info.st_atime_ns, info.st_mtime_ns))


@contextlib.contextmanager
def _writer(
    root: Path, relative: str, mode: int, *, over_links: bool = False
) -> Iterator[BinaryIO]:
    """A new file in the destination's directory, renamed over the destination once written:
    a link or a hard link there is replaced, never written through."""
    parts = _parts(relative)
    if not parts:
        raise UnsafePath(f"{relative!r} names no file", path=relative)
    with _dir(root, parts[:-1], relative, create=True) as dir_fd:
        name = parts[-1]
        if not over_links:
            _check_replaceable(dir_fd, name, relative)
        partial = f".paddock-{secrets.token_hex(6)}.partial"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(partial, flags, mode, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), mode)  # not narrowed by the umask: as copy2 keeps it
                yield fh
            if not over_links:
                _check_replaceable(dir_fd, name, relative)
            os.rename(partial, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial, dir_fd=dir_fd)
            raise


def _check_replaceable(dir_fd: int, name: str, relative: str) -> None:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafePath(
            f"{relative} is a symlink (Paddock never writes through links in an agent's files)",
            path=relative,
        )
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePath(f"{relative} is there and is not a regular file", path=relative)


# --- walking -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a tree `walk` lists. `dir_fd` (its directory) is valid only until the walk
    moves on: use it with `name` for *at calls (os.chown(..., dir_fd=, follow_symlinks=False))."""

    path: str  # relative to the walked root, "/"-separated
    name: str
    dir_fd: int
    info: os.stat_result  # the entry itself (a link is not followed)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.info.st_mode)

    @property
    def is_link(self) -> bool:
        return stat.S_ISLNK(self.info.st_mode)

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.info.st_mode)

    def open(self) -> BinaryIO:
        """The entry, open for reading: a regular file, never a link (else UnsafePath)."""
        try:
            fd = os.open(self.name, _READ, dir_fd=self.dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refused(self.path, exc) from None
            raise
        return _regular(fd, self.path)


def walk(root: Path, *, max_depth: int = MAX_DEPTH) -> Iterator[Entry]:
    """Every entry under `root` (not `root` itself), a directory before what it holds, sorted
    by name; links are listed, never followed. A directory that is gone or was swapped for
    something else by the time it is opened is passed over; one deeper than `max_depth` is
    refused (UnsafePath)."""
    fd = open_root(root)
    try:
        yield from _walk_dir(fd, "", max_depth)
    finally:
        os.close(fd)


def _walk_dir(fd: int, prefix: str, depth: int) -> Iterator[Entry]:
    for name in sorted(os.listdir(fd)):
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        entry = Entry(prefix + name, name, fd, info)
        yield entry
        if not entry.is_dir:
            continue
        if depth <= 0:
            raise UnsafePath(f"{entry.path} is nested too deep", path=entry.path)
        try:
            child = os.open(name, _DIR, dir_fd=fd)
        except OSError:  # gone, or no longer a directory (a link now): not followed
            continue
        try:
            again = os.fstat(child)
            if (again.st_dev, again.st_ino) == (info.st_dev, info.st_ino):
                yield from _walk_dir(child, entry.path + "/", depth - 1)
        finally:
            os.close(child)
