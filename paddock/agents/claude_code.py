"""Claude Code (`claude`, npm @anthropic-ai/claude-code) in its print mode with stream-json output.

One turn is `claude -p --output-format stream-json --verbose -- <prompt>`, a follow-up adds
`--resume <session_id>`. Its sessions live under `$HOME/.claude/projects/`, so the attempt's own
HOME keeps them between turns.

Permissions (stdin is closed, so the CLI can never ask):
  full → `--dangerously-skip-permissions` (with IS_SANDBOX=1, which it wants when run as root)
  plan → `--permission-mode plan` (it reads and plans; it changes nothing)
  ask  → `--permission-mode default` (only what needs no approval; the rest is refused)

Credentials: ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL. Auto-update, telemetry, error reporting
and other non-essential traffic are turned off in every run.

Retries: Claude Code retries a failed request ten times by default, backing off to ~40 s, even
for a refused key (401): a wrong key held a turn "running" for about three minutes. Paddock sets
CLAUDE_CODE_MAX_RETRIES to MAX_RETRIES (a few seconds in all); a variant's env can set another.
Each retry (`system/api_retry`) is a `retry` entry; background work (`system/task_started`,
`task_progress`, `task_notification`) is a `background_task` entry as it starts and ends. A
background task's end starts another turn in the same run, whose `result` reports the run's cost
so far: each `usage` entry carries its own turn's cost (the difference).
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paddock.agents.base import (
    AgentRun,
    JsonLinesNormaliser,
    Package,
    Permission,
    TurnContext,
    write_home_config,
)
from paddock.agents.channel_relay import SERVER_NAME
from paddock.domain.entries import (
    Entry,
    EntryKind,
    ToolAction,
    background_task,
    error,
    retry,
    session,
    text_entry,
    tool_call,
    tool_result,
    usage,
)

_PACKAGE = Package("npm", "@anthropic-ai/claude-code", "2.1.197")

_PERMISSION_ARGS: dict[Permission, list[str]] = {
    Permission.full: ["--dangerously-skip-permissions"],
    Permission.plan: ["--permission-mode", "plan"],
    Permission.ask: ["--permission-mode", "default"],
}

MAX_RETRIES = 3  # of a failed request (Claude Code's own default: 10, about three minutes)

_QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_MAX_RETRIES": str(MAX_RETRIES),
}


def mcp_config(ctx: TurnContext) -> Path:
    """Where the attempt's channel is described for the CLI (read with --mcp-config)."""
    return ctx.home / ".claude" / "paddock-mcp.json"


def _channel_servers(relay: list[str]) -> dict[str, Any]:
    command, *args = relay
    return {"mcpServers": {SERVER_NAME: {"type": "stdio", "command": command, "args": args}}}


_ACTIONS = {
    "Read": ToolAction.read,
    "NotebookRead": ToolAction.read,
    "LS": ToolAction.read,
    "Write": ToolAction.write,
    "Edit": ToolAction.edit,
    "MultiEdit": ToolAction.edit,
    "NotebookEdit": ToolAction.edit,
    "Bash": ToolAction.shell,
    "Grep": ToolAction.search,
    "Glob": ToolAction.search,
    "WebFetch": ToolAction.web,
    "WebSearch": ToolAction.web,
}

_PATH_KEYS = ("file_path", "path", "notebook_path")


def _text(content: Any) -> str:
    """A tool result's content: a string, or a list of blocks whose text parts are joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(block.get("text", "")) if isinstance(block, dict) else str(block)
            for block in content
        ]
        return "\n".join(p for p in parts if p)
    return "" if content is None else json.dumps(content)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _retry(event: dict[str, Any]) -> Entry:
    """`system/api_retry`: which retry, of how many, after how long, and why ("401
    authentication_failed"; an unreachable model says only "unknown")."""
    delay = event.get("retry_delay_ms")
    why = [str(event[k]) for k in ("error_status", "error") if event.get(k) not in (None, "")]
    return retry(
        _int(event.get("attempt")),
        _int(event.get("max_retries")) or None,
        round(delay / 1000, 1) if isinstance(delay, int | float) else None,
        " ".join(why) or "request failed",
    )


def _task(event: dict[str, Any], subtype: str) -> list[Entry]:
    """Claude Code's background work (a shell command run in the background, a sub-agent):
    its start, its progress and how it ended. `task_updated` repeats in a patch what the
    `task_notification` after it says, so it makes no entry."""
    if subtype == "task_updated":
        return []
    status = {"task_started": "started", "task_progress": "running"}.get(subtype)
    return [
        background_task(
            str(event["task_id"]),
            status or str(event.get("status") or "ended"),
            str(event.get("description") or ""),
            str(event.get("summary") or ""),
        )
    ]


_TASK_EVENTS = ("task_started", "task_progress", "task_updated", "task_notification")


class ClaudeCodeNormaliser(JsonLinesNormaliser):
    """stream-json events → entries; anything unexpected is kept as a raw entry."""

    def __init__(self) -> None:
        self._last_error: str | None = None  # the final result repeats an API error message
        # A background task's end starts another turn in the same run, with a result of its
        # own: its usage is that turn's, but its total_cost_usd is the run's so far.
        self._cost_so_far = 0.0

    def _event(self, event: dict[str, Any]) -> list[Entry] | None:
        kind, subtype = event.get("type"), event.get("subtype")
        if kind == "system" and subtype == "init" and event.get("session_id"):
            return [session(str(event["session_id"]), event.get("model"))]
        if kind == "system" and subtype == "api_retry":
            return [_retry(event)]
        if kind == "system" and subtype in _TASK_EVENTS and event.get("task_id"):
            return _task(event, str(subtype))
        if kind == "assistant" and event.get("error"):  # an API failure, told as a message
            self._last_error = _text(event["message"]["content"]) or str(event["error"])
            return [error(self._last_error)]
        if kind == "assistant":
            return self._blocks(event["message"]["content"], assistant=True)
        if kind == "user":
            return self._blocks(event["message"]["content"], assistant=False)
        if kind == "result":
            return self._result(event)
        return None

    def _blocks(self, content: Any, assistant: bool) -> list[Entry] | None:
        if isinstance(content, str):
            kind = EntryKind.assistant_message if assistant else EntryKind.user_message
            return [text_entry(kind, content)]
        entries: list[Entry] = []
        for block in content:
            btype = block.get("type")
            if btype == "text" and assistant:
                entries.append(text_entry(EntryKind.assistant_message, str(block["text"])))
            elif btype == "thinking":
                entries.append(text_entry(EntryKind.thinking, str(block.get("thinking", ""))))
            elif btype == "tool_use":
                name = str(block.get("name", ""))
                tool_input = block.get("input") or {}
                paths = [
                    str(tool_input[k])
                    for k in _PATH_KEYS
                    if isinstance(tool_input, dict) and tool_input.get(k)
                ]
                action = _ACTIONS.get(name, ToolAction.other)
                entries.append(tool_call(str(block.get("id", "")), name, action, paths, tool_input))
            elif btype == "tool_result":
                ok = not block.get("is_error", False)
                output = _text(block.get("content"))
                entries.append(tool_result(str(block.get("tool_use_id", "")), ok, output))
            elif btype == "text":
                entries.append(text_entry(EntryKind.user_message, str(block["text"])))
        return entries if entries or not content else None

    def _result(self, event: dict[str, Any]) -> list[Entry]:
        entries: list[Entry] = []
        if event.get("is_error") or str(event.get("subtype", "")).startswith("error"):
            message = event.get("result") or "; ".join(map(str, event.get("errors") or []))
            message = str(message or event.get("subtype") or "Claude Code failed")
            if message != self._last_error:
                entries.append(error(message))
        tokens = event.get("usage")
        if isinstance(tokens, dict) and tokens:
            input_tokens = (
                _int(tokens.get("input_tokens"))
                + _int(tokens.get("cache_creation_input_tokens"))
                + _int(tokens.get("cache_read_input_tokens"))
            )
            total = event.get("total_cost_usd")
            cost = None
            if isinstance(total, int | float):
                cost, self._cost_so_far = round(total - self._cost_so_far, 10), float(total)
            entries.append(usage(input_tokens, _int(tokens.get("output_tokens")), cost))
        return entries


@dataclass(frozen=True, slots=True)
class ClaudeCode:
    name: str = "claude-code"
    label: str = "Claude Code (Anthropic)"
    program: str = "claude"
    package: Package | None = _PACKAGE
    interrupt: signal.Signals = signal.SIGINT

    def needs_command(self) -> bool:
        return False

    def speaks_mcp(self) -> bool:
        return True

    def prepare_home(self, ctx: TurnContext) -> None:
        """The config dir (the CLI needs no file there when the key comes from env), and the
        attempt's channel as an MCP server in a file of its own, given by `--mcp-config`."""
        (ctx.home / ".claude").mkdir(parents=True, exist_ok=True)
        if ctx.channel is not None:
            servers = _channel_servers(ctx.channel.command())
            write_home_config(mcp_config(ctx), json.dumps(servers) + "\n")

    def command(self, ctx: TurnContext, command: str = "") -> AgentRun:
        argv = [ctx.executable, "-p", "--output-format", "stream-json", "--verbose"]
        argv += _PERMISSION_ARGS[ctx.variant.permission]
        if ctx.variant.model:
            argv += ["--model", ctx.variant.model]
        if ctx.resume:
            argv += ["--resume", ctx.resume]
        if ctx.channel is not None:
            # `=`: the option takes several values, the next argument would be one.
            argv.append(f"--mcp-config={mcp_config(ctx)}")
            if ctx.variant.permission is not Permission.full:
                argv.append(f"--allowedTools=mcp__{SERVER_NAME}")  # its tools need no approval
        argv += [*ctx.variant.extra_args, "--", ctx.prompt]  # a prompt may start with "-"
        env = {
            "HOME": str(ctx.home),
            "CLAUDE_CONFIG_DIR": str(ctx.home / ".claude"),
            **_QUIET_ENV,
        }
        if ctx.variant.permission is Permission.full:
            env["IS_SANDBOX"] = "1"
        creds = ctx.credentials
        if creds.anthropic_api_key:
            env["ANTHROPIC_API_KEY"] = creds.anthropic_api_key
        if creds.anthropic_base_url:
            env["ANTHROPIC_BASE_URL"] = creds.anthropic_base_url
        env.update(ctx.variant.env)
        return AgentRun(argv=argv, env=env, stdin=None)

    def normaliser(self) -> ClaudeCodeNormaliser:
        return ClaudeCodeNormaliser()


ADAPTER = ClaudeCode()
