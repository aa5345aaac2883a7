"""The Anthropic planner: Claude through the official `anthropic` SDK (Messages API).

One non-streaming `messages.create` per ask; the answer's text blocks are the model's answer.
The SDK's errors become `PlannerFailed` in plain words; the key never appears in them.
"""

from __future__ import annotations

import anthropic

from paddock.planners.base import UNUSABLE, PlannerFailed
from paddock.planners.model import MAX_TOKENS, ModelPlanner, Prompt, sdk_failure

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
        async with self._client() as client:
            try:
                message = await client.messages.create(
                    model=self.model,
                    max_tokens=MAX_TOKENS,
                    system=prompt.system,
                    messages=[{"role": "user", "content": prompt.user}],
                )
            except anthropic.AnthropicError as exc:
                raise sdk_failure(
                    anthropic, exc, str(client.base_url).rstrip("/"), self._key
                ) from None
        text = "".join(block.text for block in message.content if block.type == "text")
        if not text.strip():
            raise PlannerFailed(UNUSABLE, detail=f"no text (stop reason {message.stop_reason})")
        return text
