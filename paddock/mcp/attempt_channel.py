"""The attempt's MCP server: what an agent inside its sandbox may ask of Paddock, through its
attempt's channel (services/attempts/agent_channel.py; docs/decisions/021-attempt-mcp-channel.md).

Exactly four tools, none taking an id: the attempt is the one whose socket the connection came
in on (`channel_server` is given it once per turn, by the service that made the socket). Inputs
are strict (an unknown field is refused, `validation_error`), and the rest is the services'
own rules: a proposal is TaskService.propose's (`bad_title`, `description_too_large`,
`too_many_proposals`), a status line AttemptService.report_progress's, bounded here to a few a
second (`rate_limited`). What the agent says is redacted of the secret values its turn was
given, as its log is. Any other tool name is `unknown_tool`; there are no resources.

The wire is the stdio transport's (one JSON-RPC message per line), carried over the socket by
the agent's relay (agents/channel_relay.py); a line is at most MAX_LINE bytes, a longer one
ends the connection. The SDK is imported on the first connection (in a thread), as for /mcp.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import anyio
import anyio.abc
import anyio.to_thread
from annotated_types import MaxLen
from pydantic import BaseModel, ConfigDict, Field

from paddock.domain.public import AttemptPublic, TaskPublic
from paddock.domain.secrets import redact
from paddock.inputs.tasks import DESCRIPTION, TITLE
from paddock.inputs.text import Trimmed
from paddock.services.attempts.agent_channel import ChannelHandler, ChannelServer
from paddock.services.engine import Engine

if TYPE_CHECKING:
    from mcp.server.lowlevel.server import Server

log = logging.getLogger("paddock.mcp")

MAX_LINE = 1 << 20  # one message: a proposal's description is at most 64 KiB
MAX_PROGRESS_INPUT = 4000  # what a status line is made from (it keeps 200 characters)
Json = Any


class Strict(BaseModel):
    """A channel tool's input: a field it does not know (an id, a project) is refused."""

    model_config = ConfigDict(extra="forbid")


class NoArguments(Strict):
    pass


class Proposal(Strict):
    """TaskCreate's title and description (paddock/inputs/tasks.py); the step is the first."""

    title: Trimmed = Field(json_schema_extra=TITLE, description="One line: the task's title")
    description: str = Field(
        "",
        description="What the task is, kept as given (line breaks, spaces)",
        json_schema_extra=DESCRIPTION,
    )


class Progress(Strict):
    text: Annotated[str, MaxLen(MAX_PROGRESS_INPUT)] = Field(
        description="A short status line for the card (one line of at most 200 characters is "
        "kept); blank clears it"
    )


@dataclass
class RateBound:
    """At most `burst` calls at once, then `per_second` (a token bucket); `clock` for tests."""

    burst: float = 5.0
    per_second: float = 2.0
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False, default=-1.0)
    _at: float = field(init=False, default=0.0)

    def take(self) -> bool:
        now = self.clock()
        if self._tokens < 0:
            self._tokens, self._at = self.burst, now
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


@dataclass
class Scope:
    """What the tools of one attempt's channel act on and with."""

    engine: Engine
    attempt_id: str
    progress: RateBound = field(default_factory=RateBound)


Run = Callable[[Scope, Any], Awaitable[Json]]


@dataclass(frozen=True)
class ChannelTool:
    name: str
    description: str
    input: type[Strict]
    run: Run
    read_only: bool


def _dump(model: BaseModel) -> Json:
    return model.model_dump(mode="json", by_alias=True)


async def _own_task(scope: Scope, _: NoArguments) -> Json:
    attempt = await scope.engine.attempts.get(scope.attempt_id)
    return _dump(TaskPublic.of(await scope.engine.tasks.get(attempt.task_id)))


async def _own_attempt(scope: Scope, _: NoArguments) -> Json:
    return _dump(AttemptPublic.of(await scope.engine.attempts.get(scope.attempt_id)))


def _redacted(scope: Scope, text: str) -> str:
    """The agent's words without the secret values its turn was given: a status line or a
    proposal goes to every board and event, where its log would never show them."""
    return redact(text, scope.engine.processes.secrets_of_attempt(scope.attempt_id))


async def _propose(scope: Scope, args: Proposal) -> Json:
    title, description = _redacted(scope, args.title), _redacted(scope, args.description)
    task = await scope.engine.tasks.propose(scope.attempt_id, title, description)
    return _dump(TaskPublic.of(task))


class RateLimited(Exception):
    pass


async def _progress(scope: Scope, args: Progress) -> Json:
    if not scope.progress.take():
        raise RateLimited
    return _dump(
        AttemptPublic.of(
            await scope.engine.attempts.report_progress(
                scope.attempt_id, _redacted(scope, args.text)
            )
        )
    )


TOOLS: dict[str, ChannelTool] = {
    tool.name: tool
    for tool in (
        ChannelTool(
            "get_own_task",
            "Your task: the card this attempt works on (title, description, step).",
            NoArguments,
            _own_task,
            read_only=True,
        ),
        ChannelTool(
            "get_own_attempt",
            "Your attempt: its branch, base, status, agent and last status line.",
            NoArguments,
            _own_attempt,
            read_only=True,
        ),
        ChannelTool(
            "propose_task",
            "Propose a new task in this project: it lands on the board as proposed, for the "
            "user to accept or dismiss (nothing starts on it by itself). For work you found "
            "that is outside your own task.",
            Proposal,
            _propose,
            read_only=False,
        ),
        ChannelTool(
            "report_progress",
            "Set your card's status line: a short line on what you are doing now (at most a "
            "few a second; blank clears it).",
            Progress,
            _progress,
            read_only=False,
        ),
    )
}
SERVER_MODULE = "paddock.mcp.attempt_server"  # the SDK's part: imported when first needed
INSTRUCTIONS = (
    "Paddock runs you in an attempt at one task of its board. Through this server you can read "
    "your own task and attempt, propose new tasks for the user to accept, and report a short "
    'progress line for your card. A failed call answers JSON {"code", "message"}.'
)


def import_the_sdk_ahead() -> None:
    """The SDK imported as a turn of a CLI that speaks MCP starts (a second or more on a busy
    machine), not when the CLI first connects: a CLI that sends its first request to the model
    without waiting for its MCP servers (Codex) would otherwise go without the channel's
    tools. Turns of other agents never load it."""
    if SERVER_MODULE not in sys.modules:
        threading.Thread(
            target=importlib.import_module, args=(SERVER_MODULE,), name="paddock-mcp-import"
        ).start()


def channel_server(engine: Engine) -> ChannelServer:
    """What the service serves each attempt's channel with: given the attempt, a handler of
    that channel's connections (one MCP server per turn, its rate bound with it)."""

    def for_attempt(attempt_id: str) -> ChannelHandler:
        scope = Scope(engine, attempt_id)
        built: list[Server[Any]] = []

        async def handle(stream: anyio.abc.ByteStream) -> None:
            if not built:
                # In a thread: the first import of the SDK must not hold up the server.
                module = await anyio.to_thread.run_sync(importlib.import_module, SERVER_MODULE)
                built.append(module.build_server(scope))
            from paddock.mcp.attempt_server import serve_stream

            await serve_stream(built[0], stream)

        return handle

    return for_attempt
