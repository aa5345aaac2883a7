"""The data plane's configuration is one HAProxy accepts, for any number of slots
(./scripts/install puts HAProxy on the machine)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from paddock.runtime import haproxy
from paddock.runtime.haproxy import PlaneConfig, render, server_address
from paddock.runtime.readiness import Upstream


@pytest.mark.parametrize("slots", [1, 64])
def test_the_rendered_configuration_is_valid(tmp_path: Path, slots: int) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        config = PlaneConfig(
            directory=tmp_path,
            gate=tmp_path / "gate.sock",
            slots=slots,
            listen_fd=listener.fileno(),
        )
        config.map_path.write_text("")
        config.lua_path.write_text(haproxy.HOP_LUA)
        config.config_path.write_text(render(config))
        binary = haproxy.binary()
        assert binary is not None
        checked = subprocess.run(
            [binary, "-c", "-f", str(config.config_path)],
            pass_fds=(listener.fileno(),),
            check=False,
            capture_output=True,
            text=True,
        )
    assert checked.returncode == 0, checked.stderr
    assert render(config).count("\nbackend s") == slots


def test_upstreams_are_named_as_haproxy_wants_them(tmp_path: Path) -> None:
    assert server_address(Upstream(5173)) == "127.0.0.1:5173"
    assert server_address(Upstream(5173, tmp_path / "b.sock")) == f"unix@{tmp_path}/b.sock"


def test_only_directories_of_gone_servers_are_stale(tmp_path: Path) -> None:
    gone = tmp_path / "paddock-plane-gone"
    fresh = tmp_path / "paddock-plane-fresh"
    alive = tmp_path / "paddock-plane-alive"
    for directory in (gone, fresh, alive):
        directory.mkdir()
    (gone / "admin.sock").write_text("")  # not a socket any more: nobody answers
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listening:
        listening.bind(str(alive / "admin.sock"))
        listening.listen()
        old = time.time() - 120
        for directory in (gone, alive):
            os.utime(directory, (old, old))
        assert haproxy.stale_directories(tmp_path, "paddock-plane-") == [gone]
