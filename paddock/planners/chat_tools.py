"""The builder's chat with a model: the app's state and the founder's message in, the model's
words and at most one proposed action out, through the model's tool calling over the chat's
typed action set (`ACTIONS`: one tool per action kind, its parameters' JSON schema as input).

A tool call is only ever a proposal: it becomes a `ProposedAction` shown in the panel, and runs
when the founder presses its button (the chat service checks the app's state again then).
A model's call is hostile input, so it is checked strictly here: a tool that is not an action
kind, parameters that are not exactly the kind's, a value outside its choices or a build the
app does not have drop the action, and the reply says so in plain words (never a crash). The
button's words and its question are made here from the kind and its parameters; the model's
own wording of them is not trusted.

Each SDK planner says how to ask its API (`ModelPlanner.complete_with_tools`) and hands back a
`ToolAnswer`; everything else is here, once for both.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from paddock.domain.builder.changes import MAX_CHANGE
from paddock.domain.builder.chat_actions import (
    ACTIONS,
    PAGE_TITLES,
    ActionKind,
    ProposedAction,
    navigate_to,
    page_link,
)
from paddock.domain.builder.chat_context import ChatContext, Reply, resume_action
from paddock.domain.builder.chat_intents import Page
from paddock.domain.builder.chat_text import MAX_MESSAGE
from paddock.domain.builder.gates import GateChoice
from paddock.planners.base import UNUSABLE, PlannerFailed, Prompt

log = logging.getLogger(__name__)

MAX_REPLY = MAX_MESSAGE  # characters of the model's text kept in a reply
_SHOWN = 120  # characters of a change request quoted in its question

UNKNOWN_ACTION = (
    "I meant to suggest a step here, but it isn't one the chat can take, so I left it out."
)
BAD_DETAILS = (
    "I meant to suggest a step here, but I got its details wrong, so I left it out. "
    "Ask me again in other words, or use the page."
)

CHAT_SYSTEM = """\
You are the assistant in an app builder, talking with a founder who does not program about
their app "{app_name}". Write for them: plain words, no jargon, short sentences, a few lines
at most.

Answer only from the app's state below. What it does not say, you do not know: say so, and
never guess or invent builds, versions, links, numbers or features.

When the founder asks for something one of your tools does, call that tool (one at most) and
say in a sentence what it will do. Nothing runs until the founder presses its button. Offer
only what the state allows: no new build while one runs, a decision only when one is pending,
a parked app must be picked back up first. When the state does not allow it, say why and what
they can do instead.

The app's state now (JSON; a field that is missing is not known):
{state}
"""


@dataclass(frozen=True, slots=True)
class Tool:
    """One action kind as a model's tool: what both SDKs' tool definitions need."""

    name: str
    description: str
    input_schema: dict[str, object]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool the model called; `arguments` is None when they were not a JSON object."""

    name: str
    arguments: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ToolAnswer:
    """A model's answer to a chat message, in neither API's words."""

    text: str
    calls: tuple[ToolCall, ...] = ()


CHAT_TOOLS: tuple[Tool, ...] = tuple(
    Tool(spec.name, spec.description, spec.parameters_schema()) for spec in ACTIONS.values()
)


def context_json(ctx: ChatContext) -> str:
    """The app's state as compact JSON: unknowns (None) and empty lists left out, and the two
    things the chat derives (iterations left, building) put in."""
    state = _compact(asdict(ctx))
    state["iterations_left"] = ctx.iterations_left
    state["building"] = ctx.building
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"))


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {key: _compact(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item is not None and item != []}
    if isinstance(value, list | tuple):
        return [_compact(item) for item in value]
    return value


def chat_prompt(ctx: ChatContext, message: str) -> Prompt:
    """One chat message as an ask: the state in the system prompt, the founder's words as
    theirs (the chat is single-turn: no history)."""
    system = CHAT_SYSTEM.format(app_name=ctx.app_name, state=context_json(ctx))
    return Prompt(system, message.strip()[:MAX_MESSAGE])


def chat_reply(ctx: ChatContext, answer: ToolAnswer) -> Reply:
    """The reply to show: the model's text, and its first tool call as a proposal when it
    passes the checks (else a sentence saying it was left out)."""
    text = answer.text.strip()
    if not text and not answer.calls:
        raise PlannerFailed(UNUSABLE, detail="the chat answer has no text and no tool call")
    if len(answer.calls) > 1:
        log.info("the model called %d tools; the first is proposed", len(answer.calls))
    if not answer.calls:
        return Reply(_capped(text))
    checked = _checked(ctx, answer.calls[0])
    if isinstance(checked, str):
        return Reply(_capped(f"{text}\n\n{checked}" if text else checked))
    kind, params = checked
    action, link = proposal(ctx, kind, params)
    return Reply(_capped(text or _said_for(kind, action, params)), action=action, link=link)


def _checked(ctx: ChatContext, call: ToolCall) -> tuple[ActionKind, dict[str, str]] | str:
    """The call's kind and parameters, or the sentence saying why it was left out."""
    try:
        kind = ActionKind(call.name)
    except ValueError:
        log.info("the model called an unknown tool %r", call.name[:100])
        return UNKNOWN_ACTION
    arguments = call.arguments
    why = "its arguments are not a JSON object"
    if arguments is not None:
        why = _wrong_params(ctx, kind, arguments)
        if not why:
            return kind, {name: str(value) for name, value in arguments.items()}
    log.info("the model's %s call was left out: %s", kind.value, why)
    return BAD_DETAILS


def _wrong_params(ctx: ChatContext, kind: ActionKind, arguments: dict[str, Any]) -> str:
    """What is wrong with a call's arguments ("" when nothing is)."""
    spec = ACTIONS[kind]
    wanted = {param.name for param in spec.parameters}
    if set(arguments) != wanted:
        return f"it gave {sorted(arguments)[:10]}, not {sorted(wanted)}"
    for param in spec.parameters:
        value = arguments[param.name]
        if not isinstance(value, str) or not value.strip():
            return f"{param.name} is not a non-empty string"
        if param.choices and value not in param.choices:
            return f"{param.name} {value[:50]!r} is not one of {list(param.choices)}"
    number = arguments.get("build_number")
    if number is not None and (ctx.build is None or number != str(ctx.build.number)):
        return f"the app has no build {str(number)[:20]!r} (its latest: {_latest(ctx)})"
    text = arguments.get("text")
    if text is not None and len(text) > MAX_CHANGE:
        return f"the change is longer than {MAX_CHANGE} characters"
    return ""


def _latest(ctx: ChatContext) -> str:
    return str(ctx.build.number) if ctx.build else "none"


def proposal(
    ctx: ChatContext, kind: ActionKind, params: dict[str, str]
) -> tuple[ProposedAction, str | None]:
    """The action with its button's words and question made from `kind` and `params`, and
    the page it concerns."""
    name = ctx.app_name
    builds = page_link(ctx.app_id, Page.builds)
    match kind:
        case ActionKind.start_build:
            number = ctx.build.number + 1 if ctx.build else 1
            confirm = f"Start a new build of {name}?"
            return ProposedAction(kind, f"Start build {number}", {}, confirm), builds
        case ActionKind.retry_build:
            number_text = params["build_number"]
            confirm = f"Try build {number_text} of {name} again?"
            return ProposedAction(kind, f"Retry build {number_text}", params, confirm), builds
        case ActionKind.cancel_build:
            number_text = params["build_number"]
            confirm = (
                f"Stop build {number_text} of {name}? The code goes back to where it was "
                "before this build."
            )
            return ProposedAction(kind, f"Stop build {number_text}", params, confirm), builds
        case ActionKind.submit_change_request:
            change = params["text"].strip()
            shown = change if len(change) <= _SHOWN else change[: _SHOWN - 1].rstrip() + "…"
            confirm = f"Submit “{shown}” as your next change request?"
            action = ProposedAction(kind, "Submit this change", {"text": change}, confirm)
            return action, None
        case ActionKind.resolve_gate:
            return _gate_action(ctx, GateChoice(params["decision"])), None
        case ActionKind.resume_app:
            return resume_action(ctx), builds
        case ActionKind.navigate:
            return navigate_to(ctx.app_id, Page(params["page"]))


def _gate_action(ctx: ChatContext, decision: GateChoice) -> ProposedAction:
    version = f" {ctx.latest_version}" if ctx.latest_version else ""
    label, confirm = {
        GateChoice.iterate: ("Iterate", f"Make changes to {ctx.app_name}?"),
        GateChoice.ship: ("Ship it", f"Ship {ctx.app_name}{version}?"),
        GateChoice.park: ("Park it", f"Park {ctx.app_name}? You can resume it any time."),
    }[decision]
    return ProposedAction(ActionKind.resolve_gate, label, {"decision": decision.value}, confirm)


def _said_for(kind: ActionKind, action: ProposedAction, params: dict[str, str]) -> str:
    """A short text for a model that answered with a tool call only."""
    if kind is ActionKind.navigate:
        return f"Here's the {PAGE_TITLES[Page(params['page'])]} page."
    return f"{action.confirm} Press “{action.label}” to go ahead."


def _capped(text: str) -> str:
    return text if len(text) <= MAX_REPLY else text[: MAX_REPLY - 1].rstrip() + "…"
