"""Ports for dev servers: picked from a configured range, free when checked.

The database holds the reservation (a unique port per preview, see store/previews.py); this
module only says which ports of the range nothing on this machine listens on or holds.
"""

from __future__ import annotations

import errno
import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from paddock.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class PortRange:
    first: int
    last: int

    @classmethod
    def parse(cls, text: str) -> PortRange:
        """`"42000-42999"`."""
        low, sep, high = text.partition("-")
        try:
            first, last = int(low), int(high if sep else low)
        except ValueError:
            first = last = 0
        if not 1024 <= first <= last <= 65535:
            raise InvalidInput(
                f"port range {text!r} must be FIRST-LAST within 1024-65535", code="bad_port_range"
            )
        return cls(first, last)

    def __len__(self) -> int:
        return self.last - self.first + 1

    def shuffled(self) -> Iterator[int]:
        """Every port once, from a random one on: servers sharing a range rarely collide."""
        start = random.randrange(len(self))
        for offset in range(len(self)):
            yield self.first + (start + offset) % len(self)


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on `host:port` now (nothing listens or holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_ports(ports: PortRange, taken: set[int]) -> Iterator[int]:
    """Ports of the range that no preview holds and nothing listens on, in random order."""
    for port in ports.shuffled():
        if port not in taken and is_free(port):
            yield port
