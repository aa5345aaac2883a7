"""How a process in a network of its own (network "private") reaches its attempt's previews:
through a gate, never through Paddock's API.

An e2e run must reach the preview through Paddock's proxy at the URL it is given
(`http://<host>.<preview domain>:<port>/`), but the sandbox cannot reach the host's loopback,
where Paddock listens. So, before the run's command starts, the server makes a listening socket
of its own *inside* the sandbox's network namespace, at 127.0.0.1:<Paddock's port> (the URLs
stay the same), and serves it with a preview-only app: the preview proxy with nothing behind
it, so any other host or path gets 404, never the API or the UI. The gate closes with the run.
See docs/decisions/012-private-sandbox-network.md.

The web layer provides the gate (`web/proxy/gateway.py`); this module only names what services
need of it.
"""

from __future__ import annotations

import socket
from typing import Protocol


class Served(Protocol):
    async def close(self) -> None:
        """Stop serving (and close the socket)."""
        ...


class PreviewGate(Protocol):
    async def serve(self, sock: socket.socket) -> Served:
        """Serve previews, and nothing else, on `sock` (a listening socket)."""
        ...
