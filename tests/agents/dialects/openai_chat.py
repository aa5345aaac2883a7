"""The OpenAI Chat Completions API (`POST /v1/chat/completions`, streamed), as Aider calls it.

Requests carry the whole history in `messages` (system, user, assistant, and `tool` messages
for CLIs that use function calling). Aider also sends few-shot example exchanges and the files
in the chat as user/assistant pairs, so scripts should decide on `last_user_text`, which is the
real prompt (or a message Aider adds itself, e.g. after adding a mentioned file to the chat).

Aider has no tools: it edits files from the model's text (`--edit-format whole`: a line with the
file name, then the whole file in a fence). So when a request offers no `tools`, a WriteFile
reply is written as such a block, a RunShell as a ```bash block (which Aider only proposes),
and the script is asked again with a `tool` turn appended, until it says something (Say): all
of it becomes one streamed assistant message. When the request offers tools, WriteFile and
RunShell become `tool_calls` instead, named after the tools offered: OpenCode's
`write {filePath, content}` when it offers one, else `write_file {path, content}`, and
`bash {command}`. Paths are absolute (under the fake's root). A CallTool reply is always a
tool call, under the name it gives (tools offered or not), its text as the message's content.

Replies are SSE `chat.completion.chunk`s: the role, the content (or tool calls), a final chunk
with `finish_reason` and `usage`, then `data: [DONE]`. A request that does not ask to stream
(no `"stream": true`, as the SDKs' plain `create` sends) gets the text as one JSON
`chat.completion` instead (with its `tool_calls` and `finish_reason: tool_calls` for a tool
call).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.agents.fake_model import (
    CallTool,
    Conversation,
    RecordedRequest,
    Response,
    RunShell,
    Say,
    Script,
    Turn,
    WriteFile,
)

MAX_CHAINED_REPLIES = 8  # WriteFile/RunShell replies chained into one text message


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def conversation(body: dict[str, Any]) -> Conversation:
    turns: list[Turn] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        text = _text(message.get("content"))
        if role == "user":
            turns.append(Turn("user", text))
        elif role == "assistant":
            calls = [
                str((call.get("function") or {}).get("arguments", ""))
                for call in message.get("tool_calls") or []
                if isinstance(call, dict)
            ]
            turns.append(Turn("assistant", "\n".join([text, *calls]).strip()))
        elif role == "tool":
            turns.append(Turn("tool", text))
    return Conversation(turns)


def whole_block(reply: WriteFile | RunShell) -> str:
    """A reply as Aider's `whole` edit format writes it."""
    if isinstance(reply, WriteFile):
        body = reply.content if reply.content.endswith("\n") else reply.content + "\n"
        return f"{reply.path}\n```\n{body}```\n"
    return f"```bash\n{reply.command}\n```\n"


def _chunk(chunk_id: str, model: str, delta: dict[str, Any], **extra: Any) -> bytes:
    body = {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": extra.pop("finish", None)}],
        **extra,
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class OpenAIChat:
    def answers(self, method: str, path: str) -> bool:
        return method == "POST" and path.split("?", maxsplit=1)[0].endswith("/chat/completions")

    def respond(self, request: RecordedRequest, script: Script, root: str) -> Response:
        body = request.json() or {}
        model = str(body.get("model") or "fake")
        convo = conversation(body)
        reply = script(convo)
        if isinstance(reply, CallTool) or (
            body.get("tools") and isinstance(reply, WriteFile | RunShell)
        ):
            offered = _tool_names(body.get("tools"))
            return self._tool_call(reply, model, root, offered, stream=bool(body.get("stream")))
        parts: list[str] = []
        for _ in range(MAX_CHAINED_REPLIES):
            if isinstance(reply, Say | CallTool):  # a CallTool here ends the chain
                break
            block = whole_block(reply)
            parts.append(block)
            convo = Conversation([*convo.turns, Turn("assistant", block), Turn("tool", "ok")])
            reply = script(convo)
        say = reply if isinstance(reply, Say) else Say("")
        parts.append(say.text)
        text = "\n".join(parts)
        chunk_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        usage = {
            "prompt_tokens": say.input_tokens,
            "completion_tokens": say.output_tokens,
            "total_tokens": say.input_tokens + say.output_tokens,
        }
        if not body.get("stream"):  # the SDKs' plain `create` (e.g. Paddock's planners)
            return Response.json(_completion(chunk_id, model, text, usage))
        events = [_chunk(chunk_id, model, {"role": "assistant", "content": ""})]
        events += [_chunk(chunk_id, model, {"content": line}) for line in _pieces(text)]
        events.append(_chunk(chunk_id, model, {}, finish="stop", usage=usage))
        events.append(b"data: [DONE]\n\n")
        return Response.sse(events)

    def _tool_call(
        self,
        reply: WriteFile | RunShell | CallTool,
        model: str,
        root: str,
        offered: set[str],
        *,
        stream: bool,
    ) -> Response:
        chunk_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        text = reply.text if isinstance(reply, CallTool) and reply.text else None
        if isinstance(reply, CallTool):
            name, arguments = reply.name, reply.arguments
        elif isinstance(reply, WriteFile):
            path = f"{root.rstrip('/')}/{reply.path}" if root else reply.path
            if "write" in offered:  # OpenCode's tool
                name, arguments = "write", {"filePath": path, "content": reply.content}
            else:
                name, arguments = "write_file", {"path": path, "content": reply.content}
        else:
            name, arguments = "bash", {"command": reply.command}
        call = {
            "index": 0,
            "id": f"call_{uuid.uuid4().hex[:12]}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        if not stream:  # the SDKs' plain `create`: one chat.completion
            whole = {k: v for k, v in call.items() if k != "index"}
            return Response.json(_completion(chunk_id, model, text, usage, tool_calls=[whole]))
        events = [
            _chunk(chunk_id, model, {"role": "assistant", "content": text, "tool_calls": [call]}),
            _chunk(chunk_id, model, {}, finish="tool_calls", usage=usage),
            b"data: [DONE]\n\n",
        ]
        return Response.sse(events)


def _completion(
    completion_id: str,
    model: str,
    text: str | None,
    usage: dict[str, int],
    *,
    tool_calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole answer as one `chat.completion`, for a request that does not stream."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    finish = "tool_calls" if tool_calls else "stop"
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def _tool_names(tools: Any) -> set[str]:
    """The names of the functions a request offers."""
    if not isinstance(tools, list):
        return set()
    return {
        str((tool.get("function") or {}).get("name", ""))
        for tool in tools
        if isinstance(tool, dict)
    }


def _pieces(text: str) -> list[str]:
    """The text in line-sized deltas, as a model streams it."""
    return [piece for piece in text.splitlines(keepends=True) if piece] or [""]
