"""Agent entries: what an agent did, normalised from each CLI's own output.

Every agent CLI prints its own stream (Claude Code and Gemini CLI stream-json, Codex JSONL,
Aider plain text). Its adapter turns that stream into these entries, numbered per process like
log lines; the raw output stays in the process log. Payloads are plain JSON objects whose keys
are listed per kind below, so the API, the UI and tests read every agent the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

# A tool result longer than this is cut (the log keeps it whole).
MAX_RESULT_CHARS = 20_000
# An agent's error message as a failed turn's reason: its first line, cut at this.
MAX_REASON_CHARS = 200


class EntryKind(StrEnum):
    user_message = "user_message"  # {text}
    assistant_message = "assistant_message"  # {text}
    thinking = "thinking"  # {text}
    tool_call = "tool_call"  # {id, tool, action, paths, input}
    tool_result = "tool_result"  # {id, ok, output, truncated}
    error = "error"  # {message}
    # {attempt, max_attempts (None: not said), delay_s (None: not said), message}: the CLI
    # retries a request that failed (a refused key, an unreachable model), and says so
    retry = "retry"
    # {id, status (started, running, completed, failed, stopped), description, summary}: work
    # the agent runs in the background (a shell command, a sub-agent), as it starts and ends
    background_task = "background_task"
    # {input_tokens, output_tokens, cost_usd (None when not reported), cumulative: the session's
    # running total rather than this run's (domain/usage.py)}
    usage = "usage"
    session = "session"  # {session_id, model}
    raw = "raw"  # {text}: a line the normaliser did not understand, kept as it was


class ToolAction(StrEnum):
    read = "read"
    write = "write"
    edit = "edit"
    shell = "shell"
    search = "search"
    web = "web"
    other = "other"


@dataclass(frozen=True, slots=True)
class Entry:
    """One normalised entry, as an adapter's normaliser produces it (not yet numbered)."""

    kind: EntryKind
    payload: dict[str, Any] = field(default_factory=dict)


class Normaliser(Protocol):
    """Turns one agent process's stdout lines into entries; never raises on bad input. One
    that makes nothing of lines says so with a class attribute `reads_lines = False`: it is
    then handed none (a flood of output would cost a call per line)."""

    def feed(self, line: str) -> list[Entry]: ...

    def finish(self) -> list[Entry]:
        """The stream ended: anything still held back."""
        ...


@dataclass(frozen=True, slots=True)
class AgentEntry:
    """An entry as stored and streamed: numbered per process from 1."""

    process_id: str
    seq: int
    kind: EntryKind
    payload: dict[str, Any]
    ts: datetime


def text_entry(kind: EntryKind, text: str) -> Entry:
    return Entry(kind, {"text": text})


def tool_call(
    call_id: str, tool: str, action: ToolAction, paths: list[str], tool_input: Any
) -> Entry:
    return Entry(
        EntryKind.tool_call,
        {"id": call_id, "tool": tool, "action": action.value, "paths": paths, "input": tool_input},
    )


def tool_result(call_id: str, ok: bool, output: str) -> Entry:
    truncated = len(output) > MAX_RESULT_CHARS
    return Entry(
        EntryKind.tool_result,
        {
            "id": call_id,
            "ok": ok,
            "output": output[:MAX_RESULT_CHARS] if truncated else output,
            "truncated": truncated,
        },
    )


def usage(
    input_tokens: int,
    output_tokens: int,
    cost_usd: float | None = None,
    *,
    cumulative: bool = False,
) -> Entry:
    payload: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": cost_usd,
    }
    if cumulative:
        payload["cumulative"] = True
    return Entry(EntryKind.usage, payload)


def session(session_id: str, model: str | None = None) -> Entry:
    return Entry(EntryKind.session, {"session_id": session_id, "model": model})


def error(message: str) -> Entry:
    return Entry(EntryKind.error, {"message": message})


def retry(attempt: int, max_attempts: int | None, delay_s: float | None, message: str) -> Entry:
    return Entry(
        EntryKind.retry,
        {"attempt": attempt, "max_attempts": max_attempts, "delay_s": delay_s, "message": message},
    )


def background_task(task_id: str, status: str, description: str, summary: str = "") -> Entry:
    return Entry(
        EntryKind.background_task,
        {"id": task_id, "status": status, "description": description, "summary": summary},
    )


def raw(text: str) -> Entry:
    return Entry(EntryKind.raw, {"text": text})


def error_reason(message: str) -> str:
    """An agent's error message as the reason a turn failed: its first line that says
    something, cut at MAX_REASON_CHARS (the entry keeps the whole message)."""
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    if len(first) > MAX_REASON_CHARS:
        return first[: MAX_REASON_CHARS - 1].rstrip() + "…"
    return first
