"""Who is on the other end of a local TCP connection: the owner (uid) of the client's socket,
asked of the kernel for that one socket (sock_diag over netlink), or where that cannot be asked,
read from its socket tables (/proc/net/tcp, tcp6).

The server asks for every request from the loopback: a read of the whole tables costs the
server's loop milliseconds once hundreds of connections are open (a busy board's streams, the
agents' dev servers), the netlink lookup of one socket tens of microseconds."""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from collections.abc import Iterator

# linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 0x1
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, seq, pid
_REQUEST = struct.Struct("=BBBxI")  # inet_diag_req_v2: family, protocol, ext, pad, states
_PORTS = struct.Struct(">HH")  # inet_diag_sockid: source and destination port, big-endian,
_REST = struct.Struct("=III")  # ... after the 16-byte addresses: interface, cookie (2 words)
_NO_COOKIE = 0xFFFFFFFF
_UID_AT = 4 + 48 + 12  # inet_diag_msg: family..retrans, the socket id, expires, r/wqueue
_OWNER = struct.Struct("=II")  # uid, inode
_LIVE_STATES = {1, 4, 5}  # ESTABLISHED, FIN_WAIT1, FIN_WAIT2 (the client may have half-closed)


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
    try:
        return _asked_owner(client, server)
    except _NotAnswered:  # no sock_diag here, or no such socket: the tables say for sure
        return _listed_owner(client, server)


class _NotAnswered(Exception):
    """sock_diag gave no owner: it cannot be asked here, or it found no live socket (which a
    kernel without its TCP module says too)."""


def _asked_owner(client: tuple[str, int], server: tuple[str, int]) -> int:
    for family, source, destination in _addresses(client[0], server[0]):
        try:
            return _ask(family, (source, client[1]), (destination, server[1]))
        except _NotAnswered:
            continue
    raise _NotAnswered


def _addresses(client: str, server: str) -> list[tuple[int, bytes, bytes]]:
    """(family, client address, server address) to ask sock_diag with: IPv4, or IPv4 mapped
    into IPv6 (a client of an IPv6 listener), or IPv6."""
    try:
        source, destination = ipaddress.ip_address(client), ipaddress.ip_address(server)
    except ValueError:
        return []
    if source.version == 4 and destination.version == 4:
        mapped_source, mapped_destination = (
            ipaddress.IPv6Address(f"::ffff:{a}").packed for a in (source, destination)
        )
        return [
            (socket.AF_INET, source.packed, destination.packed),
            (socket.AF_INET6, mapped_source, mapped_destination),
        ]
    if source.version == 6 and destination.version == 6:
        return [(socket.AF_INET6, source.packed, destination.packed)]
    return []


def _ask(family: int, source: tuple[bytes, int], destination: tuple[bytes, int]) -> int:
    """The owner of the one TCP socket source → destination, by sock_diag's exact lookup."""
    request = b"".join(
        (
            _REQUEST.pack(family, socket.IPPROTO_TCP, 0, 0),
            _PORTS.pack(source[1], destination[1]),
            source[0].ljust(16, b"\0"),
            destination[0].ljust(16, b"\0"),
            _REST.pack(0, _NO_COOKIE, _NO_COOKIE),
        )
    )
    header = _HEADER.pack(_HEADER.size + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as sock:
            sock.settimeout(1)
            sock.sendto(header + request, (0, 0))
            answer = sock.recv(4096)
    except OSError as exc:
        raise _NotAnswered from exc
    length, kind, _flags, _seq, _pid = _HEADER.unpack_from(answer)
    body = answer[_HEADER.size : length]
    if kind != _SOCK_DIAG_BY_FAMILY or len(body) < _UID_AT + _OWNER.size:
        raise _NotAnswered  # an error (no such socket, no TCP module) or not understood
    uid, inode = _OWNER.unpack_from(body, _UID_AT)
    if body[1] not in _LIVE_STATES or inode == 0:
        raise _NotAnswered
    return int(uid)


def _listed_owner(client: tuple[str, int], server: tuple[str, int]) -> int | None:
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
