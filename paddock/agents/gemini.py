"""Gemini CLI (`@google/gemini-cli`) in headless mode: `gemini --prompt=... --output-format
stream-json`, one process per turn, stdin closed.

Its HOME is the attempt's own: `$HOME/.gemini/settings.json` selects API-key auth (without it
the CLI exits 41), turns off telemetry, usage statistics and auto-update, and guards against
stalls. Sessions live under `$HOME/.gemini/tmp/<project>/chats/`; a follow-up passes
`--resume <session id>` (the id of the `init` event, which a resumed run keeps).

Stall guard: the CLI retries with a backoff of 5 s doubling to 30 s. `general.maxAttempts`
(default 10: an unreachable model took over five minutes) caps the chat model's attempts at
MAX_ATTEMPTS, but its model router (the default model `auto` asks a classifier model first) makes
five attempts of its own whatever that setting says, so an unreachable model still took about
90 s. `general.retryFetchErrors: false` stops retrying a request that could not be sent at all
("fetch failed sending request"): such a turn fails within seconds, while answers the API gives
(429, 5xx) are still retried up to MAX_ATTEMPTS times.

Credentials: `GEMINI_API_KEY`; a base URL goes to `GOOGLE_GEMINI_BASE_URL`.

Permissions → `--approval-mode`:
- full → `yolo` (every tool runs without asking; Paddock's sandbox is the boundary)
- plan → `plan` (read-only tools; the CLI's plan mode)
- ask  → `default` (headless with stdin closed: tools that need approval are refused)
`--skip-trust` trusts the worktree for the session (an untrusted folder forces `default`).

Output (NDJSON): init{session_id, model}, message{role, content, delta}, tool_use{tool_name,
tool_id, parameters}, tool_result{tool_id, status, output?, error?}, error{severity, message},
result{status, error?, stats{input_tokens, output_tokens, ...}}. Consecutive assistant deltas
are joined into one assistant_message. The user's own message is not repeated (Paddock records
the prompt); the CLI prints no thoughts and no cost in this mode.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from typing import Any

from paddock.agents.base import (
    AgentRun,
    Package,
    Permission,
    TurnContext,
    read_home_config,
    write_home_config,
)
from paddock.agents.channel_relay import SERVER_NAME
from paddock.domain.entries import (
    Entry,
    EntryKind,
    ToolAction,
    error,
    raw,
    session,
    text_entry,
    tool_call,
    tool_result,
    usage,
)

PACKAGE = Package("npm", "@google/gemini-cli", "0.61.0")
MAX_ATTEMPTS = 3
SETTINGS: dict[str, Any] = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "general": {"disableAutoUpdate": True, "maxAttempts": MAX_ATTEMPTS, "retryFetchErrors": False},
}
APPROVAL = {Permission.full: "yolo", Permission.plan: "plan", Permission.ask: "default"}
ACTIONS = {
    "read_file": ToolAction.read,
    "read_many_files": ToolAction.read,
    "list_directory": ToolAction.read,
    "write_file": ToolAction.write,
    "replace": ToolAction.edit,
    "edit": ToolAction.edit,
    "run_shell_command": ToolAction.shell,
    "glob": ToolAction.search,
    "grep": ToolAction.search,
    "grep_search": ToolAction.search,
    "search_file_content": ToolAction.search,
    "web_fetch": ToolAction.web,
    "google_web_search": ToolAction.web,
}
_PATH_KEYS = ("file_path", "absolute_path", "path", "dir_path")
_PATH_LISTS = ("paths", "include")


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def _paths(tool: str, params: dict[str, Any]) -> list[str]:
    found = [params[k] for k in _PATH_KEYS if isinstance(params.get(k), str)]
    if tool == "read_many_files":
        for key in _PATH_LISTS:
            items = params.get(key)
            if isinstance(items, list):
                found += [p for p in items if isinstance(p, str)]
    return found


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class GeminiNormaliser:
    def __init__(self) -> None:
        self._text: list[str] = []  # assistant deltas not yet emitted

    def _flush(self) -> list[Entry]:
        text, self._text = "".join(self._text), []
        return [text_entry(EntryKind.assistant_message, text)] if text else []

    def feed(self, line: str) -> list[Entry]:
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            event = None
        if not isinstance(event, dict):
            return [*self._flush(), raw(line)] if line.strip() else []
        kind = event.get("type")
        if kind == "message" and event.get("role") == "assistant":
            if isinstance(event.get("content"), str):
                self._text.append(event["content"])
                return []
        elif kind == "message" and event.get("role") == "user":
            return []  # the prompt: Paddock records it as the turn's user message
        held = self._flush()
        try:
            return [*held, *self._event(kind, event, line)]
        except Exception:  # an odd shape of a known event: keep the line, never raise
            return [*held, raw(line)]

    def _event(self, kind: Any, event: dict[str, Any], line: str) -> list[Entry]:
        if kind == "init" and isinstance(event.get("session_id"), str):
            return [session(event["session_id"], event.get("model"))]
        if kind == "tool_use" and isinstance(event.get("tool_name"), str):
            name, params = event["tool_name"], event.get("parameters") or {}
            action = ACTIONS.get(name, ToolAction.other)
            paths = _paths(name, params) if isinstance(params, dict) else []
            return [tool_call(str(event.get("tool_id", "")), name, action, paths, params)]
        if kind == "tool_result":
            ok = event.get("status") == "success"
            output = event.get("output")
            problem = event.get("error")
            if not ok and isinstance(problem, dict) and problem.get("message"):
                output = str(problem["message"])
            if not isinstance(output, str):
                output = "" if output is None else json.dumps(output)
            return [tool_result(str(event.get("tool_id", "")), ok, output)]
        if kind == "error":
            message = str(event.get("message", "error"))
            return [error(message if event.get("severity") != "warning" else f"warning: {message}")]
        if kind == "result":
            entries = []
            problem = event.get("error")
            if event.get("status") != "success":
                detail = problem.get("message") if isinstance(problem, dict) else None
                entries.append(error(str(detail or f"gemini ended with {event.get('status')}")))
            stats = event.get("stats")
            if isinstance(stats, dict):
                spent = (_int(stats.get(key)) for key in ("input_tokens", "output_tokens"))
                entries.append(usage(*spent))
            return entries
        return [raw(line)]

    def finish(self) -> list[Entry]:
        return self._flush()


@dataclass(frozen=True, slots=True)
class Gemini:
    name: str = "gemini"
    label: str = "Gemini CLI"
    program: str = "gemini"
    package: Package | None = PACKAGE
    interrupt: signal.Signals = signal.SIGINT

    def needs_command(self) -> bool:
        return False

    def speaks_mcp(self) -> bool:
        return True

    def prepare_home(self, ctx: TurnContext) -> None:
        path = ctx.home / ".gemini" / "settings.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        current = read_home_config(path)
        settings = _merge(current, json.loads(json.dumps(SETTINGS)))  # a deep copy of SETTINGS
        servers = settings.get("mcpServers")
        if not isinstance(servers, dict):
            servers = settings["mcpServers"] = {}
        servers.pop(SERVER_NAME, None)  # a last turn's, when the project has turned it off
        if ctx.channel is not None:
            command, *args = ctx.channel.command()
            servers[SERVER_NAME] = {"command": command, "args": args, "trust": True}
        if not servers:
            del settings["mcpServers"]
        text = json.dumps(settings, indent=2) + "\n"
        write_home_config(path, text)

    def command(self, ctx: TurnContext, command: str = "") -> AgentRun:
        variant = ctx.variant
        argv = [
            ctx.executable,
            f"--prompt={ctx.prompt}",
            "--output-format=stream-json",
            f"--approval-mode={APPROVAL[variant.permission]}",
            "--skip-trust",
        ]
        if variant.model:
            argv.append(f"--model={variant.model}")
        if ctx.resume:
            argv.append(f"--resume={ctx.resume}")
        argv += variant.extra_args
        env = {"HOME": str(ctx.home)}
        creds = ctx.credentials
        if creds.gemini_api_key:
            env["GEMINI_API_KEY"] = creds.gemini_api_key
        if creds.gemini_base_url:
            env["GOOGLE_GEMINI_BASE_URL"] = creds.gemini_base_url
        env.update(variant.env)
        return AgentRun(argv=argv, env=env, stdin=None)

    def normaliser(self) -> GeminiNormaliser:
        return GeminiNormaliser()


ADAPTER = Gemini()
