"""The OpenAI planner: any OpenAI-compatible Chat Completions API, through the official
`openai` SDK (OpenAI itself, or a local server via `base_url`).

One non-streaming `chat.completions.create` per ask, without `response_format` (not every
compatible server has it): the prompt asks for JSON and `model.py` reads it from the text.
The SDK's errors become `PlannerFailed` in plain words; the key never appears in them.
"""

from __future__ import annotations

import openai

from paddock.planners.base import UNUSABLE, PlannerFailed
from paddock.planners.model import MAX_TOKENS, ModelPlanner, Prompt, sdk_failure

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
        async with self._client() as client:
            try:
                completion = await client.chat.completions.create(
                    model=self.model,
                    max_tokens=MAX_TOKENS,
                    messages=[
                        {"role": "system", "content": prompt.system},
                        {"role": "user", "content": prompt.user},
                    ],
                )
            except openai.OpenAIError as exc:
                raise sdk_failure(
                    openai, exc, str(client.base_url).rstrip("/"), self._key
                ) from None
        text = completion.choices[0].message.content if completion.choices else None
        if not text or not text.strip():
            raise PlannerFailed(UNUSABLE, detail="the answer has no text")
        return text
