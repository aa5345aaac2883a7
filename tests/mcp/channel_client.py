"""The SDK's client on an attempt's channel, through the agent's relay (agents/channel_relay.py),
as an agent CLI reaches it: from the tests' process, or run inside an attempt's sandbox by the
script agent (`python channel_client.py CALLS [SOCKET]`), printing what it saw as one line
`CHANNEL <json>` (CALLS: a JSON list of [tool, arguments]; SOCKET: $PADDOCK_CHANNEL unless
given)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

from paddock.agents.channel_relay import relay_command

PREFIX = "CHANNEL "
# What a line of the sandbox's log keeps of each answer (a whole attempt is too long for one).
KEPT = ("id", "code", "task_id", "title", "proposed", "proposed_by", "progress")


def relay_params(socket: str) -> StdioServerParameters:
    command, *args = relay_command(Path(socket))
    return StdioServerParameters(command=command, args=args, env={"PATH": os.defpath})


@asynccontextmanager
async def channel(socket: str, **options: Any) -> AsyncIterator[Client]:
    async with Client(relay_params(socket), **options) as client:
        yield client


async def outcome(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """{"error": bool, "body": the tool's JSON answer}."""
    result = await client.call_tool(name, arguments)
    text = result.content[0].text if result.content else "null"  # type: ignore[union-attr]
    return {"error": bool(result.is_error), "body": json.loads(text)}


async def session(socket: str, calls: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    async with channel(socket) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        done = [await outcome(client, name, arguments) for name, arguments in calls]
    return {"tools": tools, "calls": done}


def main(argv: list[str]) -> int:
    calls = [(name, arguments) for name, arguments in json.loads(argv[1])]
    socket = argv[2] if len(argv) > 2 else os.environ["PADDOCK_CHANNEL"]
    seen = anyio.run(session, socket, calls)
    for call in seen["calls"]:
        body = call["body"]
        call["body"] = {k: body[k] for k in KEPT if k in body} if isinstance(body, dict) else body
    print(PREFIX + json.dumps(seen), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
