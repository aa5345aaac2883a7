"""`paddock mcp`: the user's MCP server on stdio, for a desktop agent (docs/mcp.md)."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from paddock.cli.connection import UrlOption, credentials


def mcp(url: UrlOption = None) -> None:
    """Serve Paddock's tools over MCP on stdin/stdout, relayed to the running server as you.

    For a desktop agent's MCP configuration (Claude Code, Codex, Gemini CLI, OpenCode): see
    docs/mcp.md. Needs a running `paddock serve` and this user's API token.
    """
    import anyio

    from paddock.mcp.relay import RelayError, check_server, relay

    base_url, token = credentials(url)
    if token is None:
        _fail("no API token yet: start the server once (`paddock serve`), or set PADDOCK_TOKEN")
    try:
        check_server(base_url, token)
    except RelayError as exc:
        _fail(str(exc))
    anyio.run(relay, base_url, token)


def _fail(message: str) -> NoReturn:
    # stderr only: stdout is the protocol's.
    print(f"paddock mcp: error: {message}", file=sys.stderr, flush=True)
    raise typer.Exit(1)
