"""The Anthropic Messages API as Claude Code calls it: `POST /v1/messages[?beta=true]`, streaming.

Requests become a `Conversation` (user texts, assistant turns, tool results as role "tool");
a `Reply` becomes the SSE event sequence message_start, content_block_start/delta/stop,
message_delta (stop_reason), message_stop; a request that does not stream gets the message as
one JSON object. A CallTool reply is a `tool_use` block (after a text block when it says
something), under the name it gives. Token counting (`/v1/messages/count_tokens`) gets a
small fixed answer; anything else under /v1/messages is answered like a message. `RefusedKey`
answers like the API to a wrong key (401).
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

from tests.agents.fake_model import (
    CallTool,
    Conversation,
    RecordedRequest,
    Reply,
    Response,
    Say,
    Script,
    Turn,
    WriteFile,
    sse_event,
)

_ids = itertools.count(1)


def _block_text(block: Any) -> str:
    if isinstance(block, str):
        return block
    if not isinstance(block, dict):
        return ""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return json.dumps(block.get("input", {}))
    if kind == "tool_result":
        return _content_text(block.get("content"))
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(_block_text(b) for b in content)
    return ""


def conversation(body: dict[str, Any]) -> Conversation:
    turns: list[Turn] = []
    for message in body.get("messages", []):
        role, content = message.get("role"), message.get("content")
        blocks = content if isinstance(content, list) else [content]
        if role == "assistant":
            turns.append(Turn("assistant", _content_text(blocks)))
            continue
        if role != "user":  # Claude Code also sends "system" messages (e.g. its agent list)
            continue
        texts = []
        for block in blocks:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                turns.append(Turn("tool", _block_text(block)))
            else:
                texts.append(_block_text(block))
        # Claude Code wraps context in <system-reminder> blocks: they are not the user's words.
        words = [t for t in texts if t and not t.lstrip().startswith("<system-reminder>")]
        if words:
            turns.append(Turn("user", "\n".join(words)))
    return Conversation(turns)


def _blocks(reply: Reply, root: str) -> tuple[list[dict[str, Any]], str]:
    """The reply as complete content blocks (one, but for a CallTool that says something too),
    and the message's stop reason."""
    if isinstance(reply, Say):
        return [{"type": "text", "text": reply.text}], "end_turn"
    if isinstance(reply, CallTool):
        said = [{"type": "text", "text": reply.text}] if reply.text else []
        use = {"type": "tool_use", "id": f"toolu_fake_{next(_ids)}", "name": reply.name}
        return [*said, {**use, "input": reply.arguments}], "tool_use"
    if isinstance(reply, WriteFile):  # Claude Code's Write wants an absolute file_path
        name = "Write"
        args: dict[str, Any] = {
            "file_path": os.path.join(root, reply.path) if root else reply.path,
            "content": reply.content,
        }
    else:
        name, args = "Bash", {"command": reply.command, "description": "Run a command"}
        if reply.background:
            args["run_in_background"] = True
    block = {"type": "tool_use", "id": f"toolu_fake_{next(_ids)}", "name": name, "input": args}
    return [block], "tool_use"


def _tokens(reply: Reply) -> tuple[int, int]:
    return (reply.input_tokens, reply.output_tokens) if isinstance(reply, Say) else (100, 20)


def _message(reply: Reply, model: str, root: str) -> dict[str, Any]:
    blocks, stop = _blocks(reply, root)
    in_tokens, out_tokens = _tokens(reply)
    return {
        "id": f"msg_fake_{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": in_tokens, "output_tokens": out_tokens},
    }


def _events(reply: Reply, model: str, root: str) -> list[bytes]:
    """The reply streamed: each block starts empty and arrives in one delta."""
    message = _message(reply, model, root)
    blocks, stop = message.pop("content"), message.pop("stop_reason")
    in_tokens, out_tokens = _tokens(reply)
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": in_tokens, "output_tokens": 1},
    }
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"message": start})]
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            delta = {"type": "text_delta", "text": block["text"]}
            start_block: dict[str, Any] = {"type": "text", "text": ""}
        else:
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            start_block = {**block, "input": {}}
        events += [
            ("content_block_start", {"index": index, "content_block": start_block}),
            ("content_block_delta", {"index": index, "delta": delta}),
            ("content_block_stop", {"index": index}),
        ]
    events += [
        (
            "message_delta",
            {
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": out_tokens},
            },
        ),
        ("message_stop", {}),
    ]
    return [sse_event({"type": name, **data}, name) for name, data in events]


class AnthropicDialect:
    def answers(self, method: str, path: str) -> bool:
        return method == "POST" and path.startswith("/v1/messages")

    def respond(self, request: RecordedRequest, script: Script, root: str) -> Response:
        body = request.json() or {}
        if request.path.startswith("/v1/messages/count_tokens"):
            return Response.json({"input_tokens": 100})
        reply = script(conversation(body))
        model = str(body.get("model") or "claude-fake")
        if body.get("stream"):
            return Response.sse(_events(reply, model, root))
        return Response.json(_message(reply, model, root))


class RefusedKey:
    """The Messages API to a wrong key: every message is refused, 401, as Anthropic answers."""

    def answers(self, method: str, path: str) -> bool:
        return method == "POST" and path.startswith("/v1/messages")

    def respond(self, request: RecordedRequest, script: Script, root: str) -> Response:
        refusal = {"type": "authentication_error", "message": "invalid x-api-key"}
        return Response.json({"type": "error", "error": refusal}, 401)
