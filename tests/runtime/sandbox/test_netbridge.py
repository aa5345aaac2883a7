"""A dev server in a sandbox with network "none" is reached through the bridge, and only so."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import httpx
import pytest

from paddock.domain.sandbox import Network, Provider
from paddock.runtime.launcher import LaunchSpec, SandboxSpec
from paddock.runtime.sandbox import netbridge
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.bwrap_process import SandboxedProcess
from paddock.runtime.sandbox.netbridge import Bridge
from paddock.runtime.sandbox.sandbox_identity import find_user

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def get_through(path: Path, url_path: str) -> httpx.Response:
    transport = httpx.AsyncHTTPTransport(uds=str(path))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        return await client.get(url_path)


@pytest.mark.parametrize("way", ["nsenter", "module"])
async def test_a_server_in_a_none_sandbox_is_reached_through_the_bridge(
    tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Either way the bridge starts (nsenter execs HAProxy; else this module's process), the
    sandbox's server is reached through it."""
    if way == "module":  # without nsenter: the module's own process joins the namespaces
        real_which = netbridge.shutil.which
        monkeypatch.setattr(
            netbridge.shutil,
            "which",
            lambda name, *a, **k: None if name == "nsenter" else real_which(name, *a, **k),
        )
    launcher = BwrapLauncher(user=find_user("paddock-sandbox"), hierarchy=None)
    problem = launcher.problem()
    assert problem is None, problem
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("hello from inside\n")
    os.chmod(tmp_path, 0o755)
    port = free_port()
    # The system's Python: the test's own may live under /root, which a sandbox hides.
    server = ["python3", "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    spec = LaunchSpec(
        server,
        site,
        {"PATH": "/usr/bin:/bin"},
        sandbox=SandboxSpec(Provider.bwrap, Network.none, writable=(site,)),
    )
    launched = await launcher.launch(spec)
    assert isinstance(launched, SandboxedProcess)
    bridge = None
    try:
        for _ in range(500):
            # A process of the sandbox seen while it starts may be gone a moment later (one
            # bwrap forks on its way): then the bridge is opened again with another one.
            inside = launched.inside_pid()
            if inside is not None:
                try:
                    bridge = await Bridge.open(inside, port, tmp_path / "bridge.sock")
                    break
                except OSError:
                    pass
            await asyncio.sleep(0.01)
        assert bridge is not None
        if way == "nsenter" and netbridge.haproxy.binary() is not None:
            # No Python interpreter starts on this way: the bridge's process is HAProxy (or
            # the shell about to become it).
            relay = os.path.basename(os.readlink(f"/proc/{bridge.process.pid}/exe"))
            assert not relay.startswith("python"), relay
        response = None
        for _ in range(500):  # until the server inside listens (the bridge hangs up before)
            try:
                response = await get_through(bridge.path, "/index.html")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.01)
        assert response is not None and response.text == "hello from inside\n"
        # The host's own 127.0.0.1:PORT is not the sandbox's: nothing listens there.
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
            pass
    finally:
        if bridge is not None:
            await bridge.close()
        await launched.stop(1.0)
