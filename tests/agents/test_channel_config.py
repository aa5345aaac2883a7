"""Each MCP-speaking CLI is told of its attempt's channel in its own config (docs/mcp.md "The
attempt's channel"): the server "paddock", run as the relay on the turn's socket; a turn
without a channel (the project turned it off) leaves no server of a last turn behind."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

from paddock.agents import channel_relay, claude_code, codex, gemini, opencode
from paddock.agents.base import Channel, Credentials, Permission, TurnContext, Variant


def context(tmp_path: Path, channel: Channel | None, **changes: object) -> TurnContext:
    values: dict[str, object] = {
        "prompt": "Do it",
        "worktree": tmp_path / "repo",
        "home": tmp_path / "home",
        "executable": "/opt/cli",
        "variant": Variant(),
        "credentials": Credentials(),
        "channel": channel,
    }
    return TurnContext(**{**values, **changes})  # type: ignore[arg-type]


SOCKET = Path("/data/channels/a1/mcp.sock")
RELAY = [sys.executable, "-I", str(SOCKET.parent / channel_relay.RELAY_NAME), str(SOCKET)]


def test_the_relay_command() -> None:
    assert Channel(SOCKET).command() == RELAY
    assert Channel(SOCKET, "/usr/bin/python3").command()[0] == "/usr/bin/python3"


def test_claude_code_reads_it_with_mcp_config(tmp_path: Path) -> None:
    ctx = context(tmp_path, Channel(SOCKET))
    claude_code.ADAPTER.prepare_home(ctx)
    path = tmp_path / "home" / ".claude" / "paddock-mcp.json"
    config = json.loads(path.read_text())
    assert config == {
        "mcpServers": {"paddock": {"type": "stdio", "command": RELAY[0], "args": RELAY[1:]}}
    }
    argv = claude_code.ADAPTER.command(ctx).argv
    assert f"--mcp-config={path}" in argv
    assert argv.index(f"--mcp-config={path}") < argv.index("--")
    # Without full permission, the channel's tools are allowed by name (they need no approval).
    asking = context(tmp_path, Channel(SOCKET), variant=Variant(permission=Permission.ask))
    assert "--allowedTools=mcp__paddock" in claude_code.ADAPTER.command(asking).argv
    off = context(tmp_path, None)
    assert not [a for a in claude_code.ADAPTER.command(off).argv if "mcp" in a]


def test_codex_gets_its_mcp_servers_key(tmp_path: Path) -> None:
    argv = codex.ADAPTER.command(context(tmp_path, Channel(SOCKET))).argv
    (setting,) = [argv[i + 1] for i, a in enumerate(argv) if a == "-c" and "mcp_" in argv[i + 1]]
    assert tomllib.loads(setting) == {
        "mcp_servers": {"paddock": {"command": RELAY[0], "args": RELAY[1:]}}
    }
    assert not [a for a in codex.ADAPTER.command(context(tmp_path, None)).argv if "mcp_" in a]


def test_gemini_settings_name_the_server_and_forget_it_when_off(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".gemini" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"mcpServers": {"mine": {"command": "x"}}}))
    gemini.ADAPTER.prepare_home(context(tmp_path, Channel(SOCKET)))
    servers = json.loads(path.read_text())["mcpServers"]
    assert servers["paddock"] == {"command": RELAY[0], "args": RELAY[1:], "trust": True}
    assert servers["mine"] == {"command": "x"}  # the user's own stay
    gemini.ADAPTER.prepare_home(context(tmp_path, None))
    assert json.loads(path.read_text())["mcpServers"] == {"mine": {"command": "x"}}


def test_opencode_config_has_a_local_server_and_forgets_it_when_off(tmp_path: Path) -> None:
    opencode.ADAPTER.prepare_home(context(tmp_path, Channel(SOCKET)))
    path = tmp_path / "home" / opencode.CONFIG
    local = json.loads(path.read_text())["mcp"]["paddock"]
    assert local == {"type": "local", "command": RELAY, "enabled": True}
    opencode.ADAPTER.prepare_home(context(tmp_path, None))
    assert "paddock" not in json.loads(path.read_text()).get("mcp", {})
