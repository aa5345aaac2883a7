"""The Gemini API as Gemini CLI calls it: `POST /v1beta/models/<model>:<method>`.

Requests become a `Conversation` (user texts, model turns, function responses as role "tool");
a `Reply` becomes one SSE chunk `data: {"candidates":[...],"usageMetadata":{...}}` for
`streamGenerateContent`. The CLI first asks a routing classifier (`generateContent` with a JSON
response schema): it gets `{"reasoning", "model_choice": "flash", "complexity_reasoning",
"complexity_score": 10}` (the keys of both its classifiers); other non-streamed
calls get the reply as one JSON body, and `countTokens` a small fixed count.
"""

from __future__ import annotations

import json
import os
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


def _part_text(part: Any) -> str:
    if not isinstance(part, dict):
        return ""
    if "text" in part:
        return str(part["text"])
    if "functionCall" in part:
        return json.dumps(part["functionCall"].get("args", {}))
    if "functionResponse" in part:
        return json.dumps(part["functionResponse"].get("response", {}))
    return ""


def conversation(body: dict[str, Any]) -> Conversation:
    turns: list[Turn] = []
    for content in body.get("contents", []):
        parts = content.get("parts") or []
        if content.get("role") == "model":
            text = "\n".join(_part_text(p) for p in parts if not p.get("thought"))
            turns.append(Turn("assistant", text))
            continue
        texts = []
        for part in parts:
            if isinstance(part, dict) and "functionResponse" in part:
                turns.append(Turn("tool", _part_text(part)))
            else:
                texts.append(_part_text(part))
        # The CLI prepends a <session_context> part (date, OS, folder tree): not the user's words.
        words = [t for t in texts if t.strip() and not t.lstrip().startswith("<session_context>")]
        if words:
            turns.append(Turn("user", "\n".join(words)))
    return Conversation(turns)


def _candidate_parts(reply: Reply, root: str) -> list[dict[str, Any]]:
    if isinstance(reply, Say):
        return [{"text": reply.text}]
    if isinstance(reply, WriteFile):
        path = os.path.join(root, reply.path) if root else reply.path
        call = {"name": "write_file", "args": {"file_path": path, "content": reply.content}}
    elif isinstance(reply, RunShell):
        call = {"name": "run_shell_command", "args": {"command": reply.command}}
    return [{"functionCall": call}]


def _chunk(reply: Reply, model: str, root: str) -> dict[str, Any]:
    in_tokens, out_tokens = (
        (reply.input_tokens, reply.output_tokens) if isinstance(reply, Say) else (100, 20)
    )
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": _candidate_parts(reply, root)},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": in_tokens,
            "candidatesTokenCount": out_tokens,
            "totalTokenCount": in_tokens + out_tokens,
        },
        "modelVersion": model,
    }


def _text_response(text: str) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
    }


class GeminiDialect:
    def answers(self, method: str, path: str) -> bool:
        return method == "POST" and path.startswith(("/v1beta/models/", "/v1/models/"))

    def respond(self, request: RecordedRequest, script: Script, root: str) -> Response:
        body = request.json() or {}
        target = request.path.split("?", 1)[0].rsplit("/", 1)[-1]
        model, _, method = target.partition(":")
        if method == "countTokens":
            return Response.json({"totalTokens": 100})
        if method == "streamGenerateContent":
            return Response.sse([sse_event(_chunk(script(conversation(body)), model, root))])
        config = body.get("generationConfig") or {}
        if config.get("responseMimeType") == "application/json":
            # The routing classifier (or another structured side request): a plain choice.
            answer = {
                "reasoning": "a simple task",
                "model_choice": "flash",
                "complexity_reasoning": "a simple task",
                "complexity_score": 10,
            }
            return Response.json(_text_response(json.dumps(answer)))
        return Response.json(_chunk(script(conversation(body)), model, root))
