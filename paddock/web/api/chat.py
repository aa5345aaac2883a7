"""/api/apps/{id}/chat: the builder's floating chat (docs/builder.md). The panel opens with
the app's snapshot, sends messages (replies may propose an action), and runs an action only
once the founder confirmed it. Behind the `builder_chat` feature flag."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from paddock.domain.public import ChatContextPublic, ChatDonePublic, ChatReplyPublic
from paddock.inputs import ChatAction, ChatMessage
from paddock.web.deps import ChatDep, require_feature
from paddock.web.error_docs import errors

router = APIRouter(
    tags=["chat"],
    dependencies=[Depends(require_feature("builder")), Depends(require_feature("builder_chat"))],
)


@router.post("/apps/{app_id}/chat/open", operation_id="open_chat")
async def open_chat(app_id: str, chat: ChatDep) -> ChatContextPublic:
    """The panel opened: the app as the chat knows it from now (stage, brief, latest version
    and build, pending decision, iterations, alignment, the last deploy readiness)."""
    return ChatContextPublic.of(await chat.open(app_id))


@router.post("/apps/{app_id}/chat/messages", operation_id="send_chat_message")
async def send_chat_message(app_id: str, body: ChatMessage, chat: ChatDep) -> ChatReplyPublic:
    """A reply from the app's state; it may propose an action (run only once confirmed)."""
    return ChatReplyPublic.of(await chat.say(app_id, body.message))


@router.post("/apps/{app_id}/chat/actions", operation_id="run_chat_action", responses=errors(409))
async def run_chat_action(app_id: str, body: ChatAction, chat: ChatDep) -> ChatDonePublic:
    """Run an action the founder confirmed in the panel, through the service that owns it (its
    refusals are the page's); the app's snapshot after it."""
    done = await chat.act(app_id, body.kind, body.params)
    return ChatDonePublic(
        text=done.text, link=done.link, context=ChatContextPublic.of(done.context)
    )
