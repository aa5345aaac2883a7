"""The OpenAI planner: any OpenAI-compatible Chat Completions API, through the official
`openai` SDK (OpenAI itself, or a local server via `base_url`).

One non-streaming `chat.completions.create` per ask, without `response_format` (not every
compatible server has it): the prompt asks for JSON and `model.py` reads it from the text.
The chat offers its actions as function tools (`tools=[{"type": "function", "function":
{name, description, parameters}}]`); the answer's `tool_calls` are the calls, handed back unrun
(arguments that are not a JSON object are handed back as None).
The SDK's errors become `PlannerFailed` in plain words; the key never appears in them.
"""

from __future__ import annotations

import json

import openai
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
)

from paddock.planners.base import UNUSABLE, PlannerFailed, Prompt
from paddock.planners.chat_tools import Tool, ToolAnswer, ToolCall
from paddock.planners.model import MAX_TOKENS, ModelPlanner, sdk_failure

DEFAULT_MODEL = "gpt-4.1"


class OpenAIPlanner(ModelPlanner):
    name = "openai"
    default_model = DEFAULT_MODEL

    def _client(self) -> openai.AsyncOpenAI:
        """A client per ask: its connections close with it, in the event loop that made them
        (a planner may outlive a loop; asks are few and far between)."""
        return openai.AsyncOpenAI(
            api_key=self._key,
            base_url=self._base_url,
            timeout=self._timeout,
            max_retries=self._max_retries,
        )

    async def complete(self, prompt: Prompt) -> str:
        completion = await self._create(prompt, [])
        text = completion.choices[0].message.content if completion.choices else None
        if not text or not text.strip():
            raise PlannerFailed(UNUSABLE, detail="the answer has no text")
        return text

    async def complete_with_tools(self, prompt: Prompt, tools: tuple[Tool, ...]) -> ToolAnswer:
        offered = [
            ChatCompletionFunctionToolParam(
                type="function",
                function={
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.input_schema,
                },
            )
            for t in tools
        ]
        completion = await self._create(prompt, offered)
        if not completion.choices:
            raise PlannerFailed(UNUSABLE, detail="the answer has no choices")
        message = completion.choices[0].message
        calls = tuple(
            ToolCall(call.function.name, _arguments(call.function.arguments))
            if isinstance(call, ChatCompletionMessageFunctionToolCall)
            else ToolCall(call.custom.name, None)  # a custom (free-text) tool: none offered
            for call in message.tool_calls or []
        )
        return ToolAnswer(message.content or "", calls)

    async def _create(
        self, prompt: Prompt, tools: list[ChatCompletionFunctionToolParam]
    ) -> ChatCompletion:
        async with self._client() as client:
            try:
                return await client.chat.completions.create(
                    model=self.model,
                    max_tokens=MAX_TOKENS,
                    messages=[
                        {"role": "system", "content": prompt.system},
                        {"role": "user", "content": prompt.user},
                    ],
                    tools=tools or openai.omit,  # none offered: the request as before
                )
            except openai.OpenAIError as exc:
                raise sdk_failure(
                    openai, exc, str(client.base_url).rstrip("/"), self._key
                ) from None


def _arguments(text: str) -> dict[str, object] | None:
    """A function call's arguments (JSON text), or None when they are not a JSON object."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
