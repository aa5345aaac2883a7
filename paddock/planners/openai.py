"""The OpenAI planner: any OpenAI-compatible Chat Completions API, through the official
`openai` SDK (OpenAI itself, or a local server via `base_url`).

One non-streaming `chat.completions.create` per ask, without `response_format` (not every
compatible server has it): the prompt asks for JSON and `model.py` reads it from the text.
The SDK's errors become `PlannerFailed` in plain words; the key never appears in them.
"""

from __future__ import annotations

from typing import Any

import openai

from paddock.planners.base import (
    KEY_REFUSED,
    RATE_LIMITED,
    UNUSABLE,
    PlannerFailed,
    unreachable,
)
from paddock.planners.model import MAX_TOKENS, ModelPlanner, Prompt, scrubbed

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
                raise self._failure(exc, str(client.base_url).rstrip("/")) from None
        text = completion.choices[0].message.content if completion.choices else None
        if not text or not text.strip():
            raise PlannerFailed(UNUSABLE, detail="the answer has no text")
        return text

    def _failure(self, exc: openai.OpenAIError, where: str) -> PlannerFailed:
        detail = scrubbed(f"{type(exc).__name__}: {exc}", self._key)
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return PlannerFailed(KEY_REFUSED, detail=detail)
        if isinstance(exc, openai.APITimeoutError):
            return PlannerFailed(unreachable(f"no answer from {where} in time."), detail=detail)
        if isinstance(exc, openai.APIConnectionError):
            return PlannerFailed(unreachable(f"no connection to {where}."), detail=detail)
        if isinstance(exc, openai.RateLimitError):
            return PlannerFailed(RATE_LIMITED, detail=detail)
        if isinstance(exc, openai.APIStatusError):
            said = scrubbed(_api_message(exc.body, exc.status_code), self._key)
            return PlannerFailed(f"The assistant answered with an error: {said}", detail=detail)
        return PlannerFailed(UNUSABLE, detail=detail)


def _api_message(body: Any, status: int) -> str:
    """The API's own words for an error (`{"error": {"message": ...}}` or the error object
    itself, as the SDK hands it), else its status."""
    error = body.get("error", body) if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return f"{message} ({status})" if message else f"status {status}"
