"""Codex (`codex`, npm @openai/codex) in its non-interactive mode with JSONL output.

One turn is `codex exec --json [options] <prompt>`; a follow-up is
`codex exec --json [options] resume <thread_id> <prompt>`. Its sessions live under CODEX_HOME
(`<home>/.codex`), so the attempt's own HOME keeps them between turns.

Permissions (stdin is closed and `exec` never asks, so whatever needs approval is refused):
  full → `--dangerously-bypass-approvals-and-sandbox` (Paddock's sandbox is the boundary; the
         CLI's own bubblewrap sandbox does not work inside it)
  plan → `-c sandbox_mode="read-only"` (it reads and plans; it changes nothing)
  ask  → `-c sandbox_mode="workspace-write"` (edits in the worktree only, no network)
Both keep `-c approval_policy="never"`. Settings are passed as `-c` flags (not `-s`), because
`exec resume` accepts only those.

Credentials: with an OpenAI key or base URL set, a custom model provider `paddock` is defined
with `-c` (Codex ignores OPENAI_BASE_URL): `base_url` (the given one or api.openai.com) and the
key in PADDOCK_OPENAI_API_KEY, spoken over the Responses API. Without either, the CLI uses its
own login (`codex login` state in CODEX_HOME).

Stall guard: by default Codex never gives up on a model it cannot connect to (its feature
`unbounded_connection_retries`: "Reconnecting... waiting for network", every 5 s to 5 min,
forever). Paddock turns that feature off (`-c features.unbounded_connection_retries=false`) and
gives its provider `request_max_retries` / `stream_max_retries` of MAX_RETRIES, so an unreachable
model fails the turn within seconds ("Reconnecting... 1/3" errors, then `turn.failed`, exit 1).
Those "Reconnecting..." errors are retries, not failures: each is a `retry` entry (which, of how
many, why), so a turn that recovered has no error and one that gave up ends with the real one.
A variant's extra args come later on the command line and can set either again.

Output quirks: `turn.completed` usage is the thread's running total (a resumed turn includes the
earlier turns), and no event names the model, so session entries carry model None.

Tools: the pinned release (0.171) offers its default model its tools through one JavaScript
`exec` tool (an `additional_tools` input item; `await tools.apply_patch(…)` inside), other models
(gpt-5.5) `apply_patch` and `exec_command` directly. Its `--json` stream says the same either way
(`file_change`, `command_execution` items), which is what this normaliser reads.
"""

from __future__ import annotations

import json
import re
import signal
from dataclasses import dataclass
from typing import Any

from paddock.agents.base import AgentRun, JsonLinesNormaliser, Package, Permission, TurnContext
from paddock.agents.channel_relay import SERVER_NAME
from paddock.domain.entries import (
    Entry,
    EntryKind,
    ToolAction,
    error,
    retry,
    session,
    text_entry,
    tool_call,
    tool_result,
    usage,
)

_PACKAGE = Package("npm", "@openai/codex", "0.171.0")
KEY_ENV = "PADDOCK_OPENAI_API_KEY"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_RETRIES = 3  # per request and per stream (Codex's own defaults: 4 and 5)
NO_ENDLESS_RETRIES = ["-c", "features.unbounded_connection_retries=false"]

# "Reconnecting... 2/3 (why)", or without a limit "Reconnecting... waiting for network (why)".
_RECONNECT = re.compile(
    r"Reconnecting(?:\.\.\.|…)\s*(?:(\d+)/(\d+)|[^(]*?)\s*(?:\((.*)\))?\s*$", re.DOTALL
)

_PERMISSION_ARGS: dict[Permission, list[str]] = {
    Permission.full: ["--dangerously-bypass-approvals-and-sandbox"],
    Permission.plan: ["-c", 'sandbox_mode="read-only"', "-c", 'approval_policy="never"'],
    Permission.ask: ["-c", 'sandbox_mode="workspace-write"', "-c", 'approval_policy="never"'],
}


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def channel_server(relay: list[str]) -> str:
    """The attempt's channel as config.toml's `[mcp_servers.paddock]`, given with `-c` (the
    same key a config.toml in CODEX_HOME would hold; a flag leaves the user's file alone)."""
    command, *args = relay
    listed = ",".join(_toml(a) for a in args)
    return f"mcp_servers.{SERVER_NAME}={{command={_toml(command)},args=[{listed}]}}"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class CodexNormaliser(JsonLinesNormaliser):
    """`codex exec --json` events → entries; anything unexpected is kept as a raw entry."""

    def __init__(self) -> None:
        self._started: set[str] = set()  # items whose call entry is out, awaiting a result
        self._last_error = ""
        self._reconnects = 0  # "Reconnecting..." messages so far

    def _event(self, event: dict[str, Any]) -> list[Entry] | None:
        kind = event.get("type")
        if kind == "thread.started" and event.get("thread_id"):
            return [session(str(event["thread_id"]), event.get("model"))]
        if kind == "turn.started":
            return []
        if kind == "turn.completed":
            tokens = event.get("usage") or {}
            spent = _int(tokens.get("input_tokens")), _int(tokens.get("output_tokens"))
            return [usage(*spent, cumulative=True)]
        if kind == "turn.failed":
            message = str((event.get("error") or {}).get("message") or "Codex turn failed")
            return [] if message == self._last_error else [error(message)]  # said just before
        if kind == "error":
            message = str(event.get("message") or "Codex error")
            reconnect = self._reconnect(message)
            if reconnect is not None:
                return [reconnect]
            self._last_error = message
            return [error(message)]
        if kind in ("item.started", "item.updated", "item.completed"):
            return self._item(event["item"], done=kind == "item.completed")
        return None

    def _reconnect(self, message: str) -> Entry | None:
        """A "Reconnecting..." message as a `retry` entry (None for any other message). Without
        a limit Codex does not number its tries, so they are counted here."""
        found = _RECONNECT.match(message)
        if found is None:
            return None
        self._reconnects += 1
        number, limit, why = found.groups()
        attempt = int(number) if number else self._reconnects
        return retry(attempt, int(limit) if limit else None, None, why or message)

    def _item(self, item: dict[str, Any], done: bool) -> list[Entry] | None:
        kind, item_id = item.get("type"), str(item.get("id", ""))
        if kind == "agent_message":
            return [text_entry(EntryKind.assistant_message, str(item["text"]))] if done else []
        if kind == "reasoning":
            return [text_entry(EntryKind.thinking, str(item["text"]))] if done else []
        if kind == "error":
            return [error(str(item.get("message", "")))] if done else []
        if kind == "todo_list":
            return []  # a plan update: the items are in the process log
        calls = {
            "command_execution": self._command,
            "file_change": self._file_change,
            "mcp_tool_call": self._mcp,
            "web_search": self._web,
        }
        handler = calls.get(str(kind))
        if handler is None:
            return None
        call, result = handler(item_id, item)
        if not done:  # item.started (or .updated: the call is already out)
            if item_id in self._started:
                return []
            self._started.add(item_id)
            return [call]
        # A call seen only on completion (file changes, searches) gets its call entry too.
        if item_id in self._started:
            self._started.discard(item_id)
            return [result]
        return [call, result]

    def _command(self, item_id: str, item: dict[str, Any]) -> tuple[Entry, Entry]:
        command = str(item.get("command", ""))
        ok = item.get("status") != "failed" and item.get("exit_code") in (0, None)
        return (
            tool_call(item_id, "shell", ToolAction.shell, [], {"command": command}),
            tool_result(item_id, ok, str(item.get("aggregated_output") or "")),
        )

    def _file_change(self, item_id: str, item: dict[str, Any]) -> tuple[Entry, Entry]:
        changes = [c for c in item.get("changes") or [] if isinstance(c, dict)]
        kinds = {c.get("kind") for c in changes}
        action = ToolAction.write if kinds <= {"add"} and changes else ToolAction.edit
        paths = [str(c.get("path", "")) for c in changes]
        summary = "\n".join(f"{c.get('kind', '')} {c.get('path', '')}" for c in changes)
        ok = item.get("status") != "failed"
        return (
            tool_call(item_id, "apply_patch", action, paths, {"changes": changes}),
            tool_result(item_id, ok, summary),
        )

    def _mcp(self, item_id: str, item: dict[str, Any]) -> tuple[Entry, Entry]:
        name = f"{item.get('server', '')}.{item.get('tool', '')}".strip(".")
        failure = item.get("error")
        output = item.get("result")
        text = json.dumps(output) if output is not None else ""
        if isinstance(failure, dict):
            text = str(failure.get("message", text))
        ok = item.get("status") != "failed" and not failure
        return (
            tool_call(item_id, name or "mcp", ToolAction.other, [], item.get("arguments")),
            tool_result(item_id, ok, text),
        )

    def _web(self, item_id: str, item: dict[str, Any]) -> tuple[Entry, Entry]:
        query = str(item.get("query", ""))
        return (
            tool_call(item_id, "web_search", ToolAction.web, [], {"query": query}),
            tool_result(item_id, item.get("status") != "failed", ""),
        )


@dataclass(frozen=True, slots=True)
class Codex:
    name: str = "codex"
    label: str = "Codex (OpenAI)"
    program: str = "codex"
    package: Package | None = _PACKAGE
    interrupt: signal.Signals = signal.SIGINT

    def needs_command(self) -> bool:
        return False

    def speaks_mcp(self) -> bool:
        return True

    def prepare_home(self, ctx: TurnContext) -> None:
        """CODEX_HOME must exist; the provider and key come from flags and env."""
        (ctx.home / ".codex").mkdir(parents=True, exist_ok=True)

    def command(self, ctx: TurnContext, command: str = "") -> AgentRun:
        argv = [ctx.executable, "exec", "--json", "--skip-git-repo-check", *NO_ENDLESS_RETRIES]
        argv += _PERMISSION_ARGS[ctx.variant.permission]
        if ctx.variant.model:
            argv += ["-m", ctx.variant.model]
        creds = ctx.credentials
        env = {"HOME": str(ctx.home), "CODEX_HOME": str(ctx.home / ".codex")}
        if creds.openai_api_key or creds.openai_base_url:
            base_url = _toml(creds.openai_base_url or DEFAULT_BASE_URL)
            provider = (
                f'{{name="paddock",base_url={base_url},env_key="{KEY_ENV}",wire_api="responses",'
                f"request_max_retries={MAX_RETRIES},stream_max_retries={MAX_RETRIES}}}"
            )
            argv += ["-c", "model_provider=paddock", "-c", f"model_providers.paddock={provider}"]
            env[KEY_ENV] = creds.openai_api_key or "unset"
        if ctx.channel is not None:
            argv += ["-c", channel_server(ctx.channel.command())]
        argv += list(ctx.variant.extra_args)
        if ctx.resume:
            argv += ["resume", ctx.resume]
        argv += ["--", ctx.prompt]
        env.update(ctx.variant.env)
        return AgentRun(argv=argv, env=env, stdin=None)

    def normaliser(self) -> CodexNormaliser:
        return CodexNormaliser()


ADAPTER = Codex()
