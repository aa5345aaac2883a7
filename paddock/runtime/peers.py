"""Who is on the other end of a local TCP connection: the owner (uid) of the client's socket,
read from the kernel's socket tables (/proc/net/tcp, tcp6)."""

from __future__ import annotations

import ipaddress
import socket
import struct

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


def socket_owner(host: str, port: int) -> int | None:
    """The uid owning the TCP socket bound to host:port on this machine (the client's side
    of a connection to us), or None when it is not a local socket."""
    wanted = {_hex_address(host, port)}
    if "." in host:  # a client of an IPv6 listener shows as ::ffff:a.b.c.d in tcp6
        wanted.add(_hex_address(f"::ffff:{host}", port))
    wanted.discard(None)
    for table in _TABLES:
        try:
            with open(table) as fh:
                next(fh, None)
                for line in fh:
                    fields = line.split()
                    if len(fields) > 7 and fields[1] in wanted:
                        return int(fields[7])
        except OSError:
            continue
    return None


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost" or host == socket.gethostname()
