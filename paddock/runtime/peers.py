"""Who is on the other end of a local TCP connection: the owner (uid) of the client's socket,
read from the kernel's socket tables (/proc/net/tcp, tcp6)."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from collections.abc import Iterator

_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def _hex_address(host: str, port: int) -> str | None:
    """The address as /proc/net/tcp* writes it: the IP in the kernel's byte order, hex."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if ip.version == 4:
        packed = struct.pack("<I", int.from_bytes(ip.packed, "big"))
        return f"{packed.hex().upper()}:{port:04X}"
    words = struct.unpack(">4I", ip.packed)
    return f"{struct.pack('<4I', *words).hex().upper()}:{port:04X}"


def _sockets() -> Iterator[list[str]]:
    """The fields of every line of the kernel's TCP socket tables (IPv4, then IPv6)."""
    for table in _TABLES:
        try:
            with open(table) as fh:
                next(fh, None)
                for line in fh:
                    yield line.split()
        except OSError:
            continue


# The client's end of a live connection: ESTABLISHED, or FIN_WAIT1/2 after it half-closed.
_LIVE = frozenset({"01", "04", "05"})


def _candidates(host: str, port: int) -> set[str]:
    wanted = {_hex_address(host, port)}
    if "." in host:  # a client of an IPv6 listener shows as ::ffff:a.b.c.d in tcp6
        wanted.add(_hex_address(f"::ffff:{host}", port))
    wanted.discard(None)
    return {w for w in wanted if w is not None}


def socket_owner(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The uid owning the client's end of the established TCP connection client → server on
    this machine, or None when there is none. The whole 4-tuple and the state must match: a
    client that picks its own port could otherwise be taken for the owner of another socket
    on that port (one in TIME_WAIT is listed as uid 0)."""
    local = _candidates(*client)
    remote = _candidates(*server)
    for fields in _sockets():
        if (
            len(fields) > 9
            and fields[3] in _LIVE
            and fields[1] in local
            and fields[2] in remote
            and fields[9] != "0"
        ):
            return int(fields[7])
    return None


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost" or host == socket.gethostname()


_LISTEN = "0A"


def listening_inodes(port: int) -> set[int]:
    """The socket inodes of every TCP listener on `port` (any address) on this machine."""
    suffix = f":{port:04X}"
    return {
        int(fields[9])
        for fields in _sockets()
        if len(fields) > 9 and fields[3] == _LISTEN and fields[1].endswith(suffix)
    }


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` holds open."""
    inodes: set[int] = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def listens_on(port: int, pids: list[int]) -> bool:
    """Whether one of `pids` holds a TCP listener on `port`."""
    wanted = listening_inodes(port)
    return bool(wanted) and any(wanted & socket_inodes(pid) for pid in pids)
