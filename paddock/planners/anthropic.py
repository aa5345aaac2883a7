"""The Anthropic planner: Claude through the official `anthropic` SDK (Messages API).

One non-streaming `messages.create` per ask; the answer's text blocks are the model's answer.
The chat offers its actions as tools (`tools=[{name, description, input_schema}]`); the
`tool_use` blocks of the answer are the calls, handed back unrun.
The SDK's errors become `PlannerFailed` in plain words; the key never appears in them.
"""

from __future__ import annotations

import anthropic
from anthropic.types import Message, ToolParam, ToolUseBlock

from paddock.planners.base import UNUSABLE, PlannerFailed, Prompt
from paddock.planners.chat_tools import Tool, ToolAnswer, ToolCall
from paddock.planners.model import MAX_TOKENS, ModelPlanner, sdk_failure

DEFAULT_MODEL = "claude-sonnet-4-5"


class AnthropicPlanner(ModelPlanner):
    name = "anthropic"
    default_model = DEFAULT_MODEL

    def _client(self) -> anthropic.AsyncAnthropic:
        """A client per ask: its connections close with it, in the event loop that made them
        (a planner may outlive a loop; asks are few and far between)."""
        return anthropic.AsyncAnthropic(
            api_key=self._key,
            base_url=self._base_url,
            timeout=self._timeout,
            max_retries=self._max_retries,
        )

    async def complete(self, prompt: Prompt) -> str:
        message = await self._create(prompt, [])
        text = _text(message)
        if not text.strip():
            raise PlannerFailed(UNUSABLE, detail=f"no text (stop reason {message.stop_reason})")
        return text

    async def complete_with_tools(self, prompt: Prompt, tools: tuple[Tool, ...]) -> ToolAnswer:
        offered = [
            ToolParam(name=t.name, description=t.description, input_schema=t.input_schema)
            for t in tools
        ]
        message = await self._create(prompt, offered)
        calls = tuple(
            ToolCall(block.name, dict(block.input) if isinstance(block.input, dict) else None)
            for block in message.content
            if isinstance(block, ToolUseBlock)
        )
        return ToolAnswer(_text(message), calls)

    async def _create(self, prompt: Prompt, tools: list[ToolParam]) -> Message:
        async with self._client() as client:
            try:
                return await client.messages.create(
                    model=self.model,
                    max_tokens=MAX_TOKENS,
                    system=prompt.system,
                    messages=[{"role": "user", "content": prompt.user}],
                    tools=tools or anthropic.omit,  # none offered: the request as before
                )
            except anthropic.AnthropicError as exc:
                raise sdk_failure(
                    anthropic, exc, str(client.base_url).rstrip("/"), self._key
                ) from None


def _text(message: Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")
