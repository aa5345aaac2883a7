"""OpenCode (`opencode`, npm opencode-ai) in its non-interactive mode with JSON events.

One turn is `opencode run --format=json --thinking --title=… [--model=p/m]` plus the permission
flags, with the prompt on stdin (`run` wraps every argument holding a space in quotes); a
follow-up adds `--session=<id>` instead of `--title` (which spares a model call naming the
session). Sessions live under `$XDG_DATA_HOME/opencode`, in the attempt's own HOME.

prepare_home writes `~/.config/opencode/opencode.json`: auto-update, sharing and snapshots off
and, with an OpenAI base URL, a provider `paddock` (the bundled AI SDK openai-compatible
package: Chat Completions at that URL) whose key is `{env:PADDOCK_OPENAI_API_KEY}`, never the
key itself. Without a base URL the keys go to OpenCode's own providers (OPENAI_API_KEY,
ANTHROPIC_API_KEY, GOOGLE_GENERATIVE_AI_API_KEY); a bare model name gets their prefix. OpenCode
npm-installs its plugin SDK into each config dir at start; a placeholder lockfile there says
that is done. The env turns off the models.dev fetch and LSP downloads and sets XDG_* and PWD
(OpenCode takes its project directory from PWD, not from its working directory).

Permissions (stdin is closed: `run` rejects whatever asks for approval):
  full → `--auto` (asks are approved; Paddock's sandbox is the boundary)
  plan → `--agent=plan` (OpenCode's plan agent: edits denied)
  ask  → OPENCODE_PERMISSION makes edits, shell and web fetches ask, so they are refused

Output (NDJSON, one event per finished part): step_start, text, reasoning, tool_use{part{tool,
callID, state{status, input, output | error}}}, step_finish{part{tokens, cost}} (one usage entry
per model call; cost 0, what a custom provider without prices gets, counts as not reported),
error{error{name, data{message}}}, and in newer releases done{reason, rejected}. An unreachable
model is retried five times over about a minute (not configurable; each failure is on stderr
via `--print-logs`), then `error` and exit code 1. It ignores SIGINT; SIGTERM stops it.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from typing import Any

from paddock.agents.base import (
    AgentRun,
    JsonLinesNormaliser,
    Package,
    Permission,
    TurnContext,
    read_home_config,
    read_home_text,
    write_home_config,
)
from paddock.agents.channel_relay import SERVER_NAME
from paddock.domain.entries import (
    Entry,
    EntryKind,
    ToolAction,
    error,
    session,
    text_entry,
    tool_call,
    tool_result,
    usage,
)

_PACKAGE = Package("npm", "opencode-ai", "1.18.33")
KEY_ENV = "PADDOCK_OPENAI_API_KEY"
PROVIDER = "paddock"
DEFAULT_MODEL = "gpt-4.1"  # the custom provider's model when the variant names none
CONFIG = ".config/opencode/opencode.json"
TITLE_CHARS = 50
ASK_PERMISSION = {"edit": "ask", "bash": "ask", "webfetch": "ask", "websearch": "ask"}
_QUIET_ENV = {
    "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_SHARE": "1",
    "OPENCODE_DISABLE_MODELS_FETCH": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
}
_XDG = {"CONFIG": ".config", "DATA": ".local/share", "STATE": ".local/state", "CACHE": ".cache"}
# `Npm.install` skips a config dir whose node_modules exists and whose lockfile lists the package.
_PLUGIN_LOCK = {
    "lockfileVersion": 3,
    "packages": {"": {"dependencies": {"@opencode-ai/plugin": "*"}}},
}

ACTIONS = {
    **dict.fromkeys(("read", "list"), ToolAction.read),
    "write": ToolAction.write,
    **dict.fromkeys(("edit", "multiedit", "patch", "apply_patch"), ToolAction.edit),
    "bash": ToolAction.shell,
    **dict.fromkeys(("glob", "grep", "codesearch"), ToolAction.search),
    **dict.fromkeys(("webfetch", "websearch"), ToolAction.web),
}
_PATH_KEYS = ("filePath", "path")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _message(problem: Any) -> str:
    """An OpenCode error object's message: data.message, message, or its name."""
    if isinstance(problem, dict):
        data = problem.get("data")
        if isinstance(data, dict) and data.get("message"):
            return str(data["message"])
        for key in ("message", "name"):
            if problem.get(key):
                return str(problem[key])
    return "OpenCode failed" if problem in (None, "", {}) else json.dumps(problem)


class OpenCodeNormaliser(JsonLinesNormaliser):
    """`opencode run --format json` events → entries; anything unexpected is kept raw."""

    def __init__(self) -> None:
        self._session: str | None = None

    def _event(self, event: dict[str, Any]) -> list[Entry] | None:
        kind, part = event.get("type"), event.get("part")
        if kind == "error":
            entries = [error(_message(event.get("error")))]
        elif kind == "done":
            entries = []  # refused tools already ended in failed tool results
        elif not isinstance(part, dict):
            return None
        elif kind in ("step_start", "step_finish"):
            entries = self._step_finish(part) if kind == "step_finish" else []
        elif kind in ("text", "reasoning"):
            text = str(part["text"])
            entry = EntryKind.assistant_message if kind == "text" else EntryKind.thinking
            entries = [text_entry(entry, text)] if text.strip() else []
        elif kind == "tool_use":
            entries = self._tool(part)
        else:
            return None
        sid = event.get("sessionID")
        if isinstance(sid, str) and sid and self._session is None:
            self._session = sid
            return [session(sid), *entries]
        return entries

    def _tool(self, part: dict[str, Any]) -> list[Entry]:
        name, call_id, state = str(part["tool"]), str(part.get("callID", "")), part["state"]
        tool_input = state.get("input") or {}
        paths = [
            str(tool_input[k])
            for k in _PATH_KEYS
            if isinstance(tool_input, dict) and isinstance(tool_input.get(k), str)
        ]
        call = tool_call(call_id, name, ACTIONS.get(name, ToolAction.other), paths, tool_input)
        ok = state.get("status") == "completed" and name != "invalid"  # an unknown tool's call
        output = state.get("output") if state.get("status") == "completed" else state.get("error")
        if not isinstance(output, str):
            output = "" if output is None else json.dumps(output)
        return [call, tool_result(call_id, ok, output)]

    def _step_finish(self, part: dict[str, Any]) -> list[Entry]:
        tokens = part.get("tokens")
        if not isinstance(tokens, dict):
            return []
        cache = tokens.get("cache")
        cache = cache if isinstance(cache, dict) else {}
        spent_in = _int(tokens.get("input")) + _int(cache.get("read")) + _int(cache.get("write"))
        spent_out = _int(tokens.get("output")) + _int(tokens.get("reasoning"))
        cost = part.get("cost")
        if isinstance(cost, bool) or not isinstance(cost, int | float) or cost <= 0:
            cost = None
        return [usage(spent_in, spent_out, None if cost is None else float(cost))]


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def model_id(ctx: TurnContext) -> str | None:
    """The variant's model as OpenCode's `provider/model`, or None for OpenCode's default."""
    model, creds = ctx.variant.model, ctx.credentials
    if creds.openai_base_url and not model:
        return f"{PROVIDER}/{DEFAULT_MODEL}"  # it has no default of its own
    if not model or "/" in model:
        return model
    if creds.openai_base_url:
        return f"{PROVIDER}/{model}"
    for key, provider in (
        (creds.openai_api_key, "openai"),
        (creds.anthropic_api_key, "anthropic"),
        (creds.gemini_api_key, "google"),
    ):
        if key:
            return f"{provider}/{model}"
    return model


def settings(ctx: TurnContext) -> dict[str, Any]:
    """What Paddock sets in the run's global opencode.json (merged into what is there)."""
    creds = ctx.credentials
    # No snapshots: OpenCode would copy the worktree into a git store in HOME at every step
    # (for its own undo); Paddock records and commits the worktree itself.
    config: dict[str, Any] = {"autoupdate": False, "share": "disabled", "snapshot": False}
    providers: dict[str, Any] = {}
    if creds.openai_base_url:
        options: dict[str, Any] = {"baseURL": creds.openai_base_url}
        if creds.openai_api_key:
            options["apiKey"] = f"{{env:{KEY_ENV}}}"
        providers[PROVIDER] = {
            "npm": "@ai-sdk/openai-compatible",
            "name": "Paddock",
            "options": options,
        }
        model = model_id(ctx)
        if model and model.startswith(f"{PROVIDER}/"):
            name = model.removeprefix(f"{PROVIDER}/")
            providers[PROVIDER]["models"] = {name: {"name": name}}
    for provider, url in (
        ("anthropic", creds.anthropic_base_url),
        ("google", creds.gemini_base_url),
    ):
        if url:
            providers[provider] = {"options": {"baseURL": url}}
    if providers:
        config["provider"] = providers
    if ctx.channel is not None:
        local = {"type": "local", "command": ctx.channel.command(), "enabled": True}
        config["mcp"] = {SERVER_NAME: local}
    return config


@dataclass(frozen=True, slots=True)
class OpenCode:
    name: str = "opencode"
    label: str = "OpenCode"
    program: str = "opencode"
    package: Package | None = _PACKAGE
    interrupt: signal.Signals = signal.SIGTERM  # it ignores SIGINT when not on a terminal

    def needs_command(self) -> bool:
        return False

    def speaks_mcp(self) -> bool:
        return True

    def prepare_home(self, ctx: TurnContext) -> None:
        path = ctx.home / CONFIG
        (path.parent / "node_modules").mkdir(parents=True, exist_ok=True)
        lock = path.parent / "package-lock.json"
        if read_home_text(lock) is None:  # the CLI's own changes to it are kept
            write_home_config(lock, json.dumps(_PLUGIN_LOCK) + "\n")
        merged = _merge(read_home_config(path), settings(ctx))
        servers = merged.get("mcp")
        if isinstance(servers, dict) and ctx.channel is None:
            servers.pop(SERVER_NAME, None)  # a last turn's, when the project has turned it off
        text = json.dumps(merged, indent=2) + "\n"
        write_home_config(path, text)

    def command(self, ctx: TurnContext, command: str = "") -> AgentRun:
        variant = ctx.variant
        # `--name=value` throughout: a value starting with "-" is not taken for an option.
        argv = [ctx.executable, "run", "--format=json", "--thinking"]
        argv += ["--print-logs", "--log-level=ERROR"]
        if model := model_id(ctx):
            argv.append(f"--model={model}")
        if variant.permission is Permission.full:
            argv.append("--auto")
        elif variant.permission is Permission.plan:
            argv.append("--agent=plan")
        if ctx.resume:
            argv.append(f"--session={ctx.resume}")
        else:
            title = " ".join(ctx.prompt.split())[:TITLE_CHARS] or "Paddock"
            argv.append(f"--title={title}")
        argv += list(variant.extra_args)
        env = {"HOME": str(ctx.home), "PWD": str(ctx.worktree), **_QUIET_ENV}
        env.update({f"XDG_{name}_HOME": str(ctx.home / path) for name, path in _XDG.items()})
        if variant.permission is Permission.ask:
            env["OPENCODE_PERMISSION"] = json.dumps(ASK_PERMISSION)
        creds = ctx.credentials
        if creds.openai_api_key:
            env[KEY_ENV if creds.openai_base_url else "OPENAI_API_KEY"] = creds.openai_api_key
        if creds.anthropic_api_key:
            env["ANTHROPIC_API_KEY"] = creds.anthropic_api_key
        if creds.gemini_api_key:
            env["GOOGLE_GENERATIVE_AI_API_KEY"] = creds.gemini_api_key
        env.update(variant.env)
        return AgentRun(argv=argv, env=env, stdin=ctx.prompt.encode())

    def normaliser(self) -> OpenCodeNormaliser:
        return OpenCodeNormaliser()


ADAPTER = OpenCode()
