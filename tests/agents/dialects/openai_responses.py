"""The OpenAI Responses API (`POST /v1/responses`, streamed), as Codex calls it.

Requests carry the whole history in `input`: messages (`input_text` / `output_text` parts),
the model's tool calls (`function_call`, `custom_tool_call`) and their outputs
(`function_call_output`, `custom_tool_call_output`). Replies are SSE: `response.created`, one
`response.output_item.added` / `.done` pair per item, then `response.completed` with usage.
WriteFile becomes Codex's freeform `apply_patch` tool (an `*** Add File:` patch), RunShell its
`exec_command` function, Say an assistant message.

The fake calls only the tools the request offers, as the model would. Codex offers them in one
of two ways, depending on the model: as `tools` (apply_patch, exec_command; e.g. gpt-5.5), or,
with its current default model, inside an `additional_tools` input item whose only tool the
model calls is `exec`, a freeform tool that runs JavaScript which calls the others
(`await tools.apply_patch("*** Begin Patch…")`, `await tools.exec_command({cmd})`). A request
that offers neither way fails (500), so a release that changes its tools again shows at once.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.agents.fake_model import (
    Conversation,
    RecordedRequest,
    Reply,
    Response,
    RunShell,
    Say,
    Script,
    Turn,
    WriteFile,
    sse_event,
)

# User-role messages Codex adds itself (environment, AGENTS.md, permissions): not the prompt.
_CONTEXT_PREFIXES = ("<environment_context>", "<user_instructions>", "# AGENTS.md", "<permissions")


def _parts_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(
        str(part.get("text", "")) for part in content if isinstance(part, dict) and "text" in part
    )


def conversation(body: dict[str, Any]) -> Conversation:
    turns: list[Turn] = []
    for item in body.get("input") or []:
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            text = _parts_text(item.get("content"))
            if role == "user" and not text.lstrip().startswith(_CONTEXT_PREFIXES):
                turns.append(Turn("user", text))
            elif role == "assistant":
                turns.append(Turn("assistant", text))
        elif kind in ("function_call", "custom_tool_call"):
            turns.append(Turn("assistant", str(item.get("arguments") or item.get("input") or "")))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            output = item.get("output")
            turns.append(Turn("tool", output if isinstance(output, str) else json.dumps(output)))
    return Conversation(turns)


def _nested(tools: Any) -> list[dict[str, Any]]:
    """Tools, with those of namespaces (`{"type": "namespace", "tools": [...]}`) flattened."""
    found: list[dict[str, Any]] = []
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict):
            found += _nested(tool["tools"]) if tool.get("type") == "namespace" else [tool]
    return found


def offered(body: dict[str, Any]) -> tuple[set[str], bool]:
    """The names of the tools the request offers as `tools`, and whether it offers the
    JavaScript `exec` tool (in an `additional_tools` input item) that calls the others."""
    flat = {str(t.get("name")) for t in _nested(body.get("tools"))}
    extra = [
        tool
        for item in body.get("input") or []
        if isinstance(item, dict) and item.get("type") == "additional_tools"
        for tool in _nested(item.get("tools"))
    ]
    code = any(t.get("type") == "custom" and t.get("name") == "exec" for t in extra)
    return flat, code


def _in_exec(item: dict[str, Any]) -> dict[str, Any]:
    """A tool call made through `exec`: JavaScript that calls the tool and returns its text."""
    if item["name"] == "apply_patch":
        script = f"const done = await tools.apply_patch({json.dumps(item['input'])});\ntext(done);"
    else:
        cmd = json.loads(item["arguments"])["cmd"]
        script = (
            f"const run = await tools.exec_command({{cmd: {json.dumps(cmd)}}});\ntext(run.output);"
        )
    return {
        "type": "custom_tool_call",
        "id": f"ctc_{uuid.uuid4().hex[:12]}",
        "status": "completed",
        "call_id": item["call_id"],
        "name": "exec",
        "input": script,
    }


def _offered_item(reply: Reply, root: str, body: dict[str, Any]) -> dict[str, Any]:
    """The reply as an output item, through a tool the request offers."""
    item = _item(reply, root)
    if item["type"] == "message":
        return item
    flat, code = offered(body)
    if item["name"] in flat:
        return item
    if code:
        return _in_exec(item)
    raise ValueError(f"the request offers no {item['name']} tool (tools: {sorted(flat)})")


def _item(reply: Reply, root: str) -> dict[str, Any]:
    call_id = f"call_{uuid.uuid4().hex[:12]}"
    if isinstance(reply, WriteFile):
        path = f"{root.rstrip('/')}/{reply.path}" if root else reply.path
        lines = "".join(f"+{line}\n" for line in reply.content.splitlines())
        patch = f"*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch\n"
        return {
            "type": "custom_tool_call",
            "id": f"ctc_{uuid.uuid4().hex[:12]}",
            "status": "completed",
            "call_id": call_id,
            "name": "apply_patch",
            "input": patch,
        }
    if isinstance(reply, RunShell):
        return {
            "type": "function_call",
            "id": f"fc_{uuid.uuid4().hex[:12]}",
            "status": "completed",
            "call_id": call_id,
            "name": "exec_command",
            "arguments": json.dumps({"cmd": reply.command}),
        }
    return {
        "type": "message",
        "id": f"msg_{uuid.uuid4().hex[:12]}",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
    }


def _event(data: dict[str, Any]) -> bytes:
    return sse_event(data, event=str(data["type"]))


class OpenAIResponses:
    def answers(self, method: str, path: str) -> bool:
        return method == "POST" and path.split("?", maxsplit=1)[0].endswith("/responses")

    def respond(self, request: RecordedRequest, script: Script, root: str) -> Response:
        body = request.json()
        reply = script(conversation(body))
        item = _offered_item(reply, root, body)
        response_id = f"resp_{uuid.uuid4().hex[:12]}"
        model = body.get("model", "fake")
        tokens = reply if isinstance(reply, Say) else Say("", 100, 20)
        base = {"id": response_id, "object": "response", "model": model}
        return Response.sse(
            [
                _event({"type": "response.created", "response": {**base, "status": "in_progress"}}),
                _event({"type": "response.output_item.added", "output_index": 0, "item": item}),
                _event({"type": "response.output_item.done", "output_index": 0, "item": item}),
                _event(
                    {
                        "type": "response.completed",
                        "response": {
                            **base,
                            "status": "completed",
                            "output": [item],
                            "usage": {
                                "input_tokens": tokens.input_tokens,
                                "input_tokens_details": {"cached_tokens": 0},
                                "output_tokens": tokens.output_tokens,
                                "output_tokens_details": {"reasoning_tokens": 0},
                                "total_tokens": tokens.input_tokens + tokens.output_tokens,
                            },
                        },
                    }
                ),
            ]
        )
