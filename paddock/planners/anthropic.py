"""The Anthropic planner: Claude through the official `anthropic` SDK (Messages API).

One non-streaming `messages.create` per ask; the answer's text blocks are the model's answer.
The SDK's errors become `PlannerFailed` in plain words; the key never appears in them.
"""

from __future__ import annotations

import anthropic

from paddock.planners.base import (
    KEY_REFUSED,
    RATE_LIMITED,
    UNUSABLE,
    PlannerFailed,
    unreachable,
)
from paddock.planners.model import MAX_TOKENS, ModelPlanner, Prompt, scrubbed

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
                raise self._failure(exc, str(client.base_url).rstrip("/")) from None
        text = "".join(block.text for block in message.content if block.type == "text")
        if not text.strip():
            raise PlannerFailed(UNUSABLE, detail=f"no text (stop reason {message.stop_reason})")
        return text

    def _failure(self, exc: anthropic.AnthropicError, where: str) -> PlannerFailed:
        detail = scrubbed(f"{type(exc).__name__}: {exc}", self._key)
        if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
            return PlannerFailed(KEY_REFUSED, detail=detail)
        if isinstance(exc, anthropic.APITimeoutError):
            return PlannerFailed(unreachable(f"no answer from {where} in time."), detail=detail)
        if isinstance(exc, anthropic.APIConnectionError):
            return PlannerFailed(unreachable(f"no connection to {where}."), detail=detail)
        if isinstance(exc, anthropic.RateLimitError):
            return PlannerFailed(RATE_LIMITED, detail=detail)
        if isinstance(exc, anthropic.APIStatusError):
            said = scrubbed(_api_message(exc), self._key)
            return PlannerFailed(f"The assistant answered with an error: {said}", detail=detail)
        return PlannerFailed(UNUSABLE, detail=detail)


def _api_message(exc: anthropic.APIStatusError) -> str:
    """The API's own words for an error (`{"error": {"message": ...}}`), else its status."""
    body = exc.body
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return f"{message} ({exc.status_code})" if message else f"status {exc.status_code}"
