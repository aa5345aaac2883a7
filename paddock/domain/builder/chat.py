"""The builder's floating chat, offline: a founder's message, routed (chat_intents.py), is
answered from a snapshot of the app's state (chat_context.py), and an action is proposed only
where that state allows it. A refusal always says why and, where there is one, offers the step
that is possible instead (a parked app offers "resume"; a failed build its retry). Questions
are answered in chat_answers.py; the actions' proposals are here.

This module is the chat's front door: a service needs only the names in `__all__` (the
snapshot it fills, `route` and `reply`, and the typed action set it can offer a model).

Nothing is made up: what the snapshot does not know, the answer says is not known yet.
"""

from __future__ import annotations

from collections.abc import Callable

from paddock.domain.builder.apps import AppStage
from paddock.domain.builder.builds import BuildStatus
from paddock.domain.builder.chat_actions import (
    ACTIONS,
    PAGE_FRAGMENTS,
    ActionKind,
    ActionParam,
    ActionSpec,
    ProposedAction,
    navigate_to,
    page_link,
)
from paddock.domain.builder.chat_answers import answer
from paddock.domain.builder.chat_context import (
    BuildView,
    ChatContext,
    DeployIssue,
    DeployView,
    Reply,
    cap_sentence,
    failure_reply,
    issues,
    last_iteration_sentence,
    parked_reply,
    resume_action,
    running_sentence,
    start_build_reply,
)
from paddock.domain.builder.chat_intents import Intent, Page, Routed, route
from paddock.domain.builder.gates import GateChoice

__all__ = [
    "ACTIONS",
    "PAGE_FRAGMENTS",
    "ActionKind",
    "ActionParam",
    "ActionSpec",
    "BuildView",
    "ChatContext",
    "DeployIssue",
    "DeployView",
    "Intent",
    "Page",
    "ProposedAction",
    "Reply",
    "Routed",
    "page_link",
    "reply",
    "route",
]


def reply(routed: Routed, ctx: ChatContext) -> Reply:
    """The chat's answer to one routed message, from the app's state."""
    if routed.intent.is_action:
        return _ACTION_REPLIES[routed.intent](routed, ctx)
    return answer(routed.intent, ctx)


# --- Actions -------------------------------------------------------------------------------------


def _start_build(routed: Routed, ctx: ChatContext) -> Reply:
    if ctx.parked:
        return parked_reply(ctx)
    if ctx.build is not None and ctx.build.running:
        return Reply(
            f"{running_sentence(ctx.build)} Wait for it to finish, or say “stop the build”.",
            link=page_link(ctx.app_id, Page.builds),
        )
    proposal = start_build_reply(ctx)
    if proposal is not None:
        return proposal
    if ctx.stage is AppStage.mvp_built:
        return Reply(
            f"{ctx.app_name} is built. New builds come from change requests: tell me what to "
            "change, e.g. “add a contact form”."
        )
    page = Page.brief if ctx.stage is AppStage.idea else Page.plan
    before = {
        AppStage.idea: "answer a few questions so the brief can be written",
        AppStage.brief: "make a plan from the brief and pick one",
        AppStage.plan: "pick one of the plan options",
    }
    first = before.get(ctx.stage, "finish the steps before it")
    action, link = navigate_to(ctx.app_id, page)
    return Reply(f"There's nothing to build yet: first {first}.", action=action, link=link)


def _retry_build(routed: Routed, ctx: ChatContext) -> Reply:
    build = ctx.build
    if build is None:
        return Reply("There's no build to retry yet.")
    if ctx.parked:
        return parked_reply(ctx)
    if build.running:
        return Reply(f"{running_sentence(build)} There's nothing to retry while it runs.")
    if build.status is BuildStatus.ready:
        version = f" and made {ctx.latest_version}" if ctx.latest_version else ""
        return Reply(f"Build {build.number} finished fine{version}; there's nothing to retry.")
    return failure_reply(ctx, build)


def _cancel_build(routed: Routed, ctx: ChatContext) -> Reply:
    build = ctx.build
    if build is None or not build.running:
        return Reply("No build is running right now, so there's nothing to stop.")
    if not build.cancellable:
        return Reply(
            f"{running_sentence(build)} It can't be stopped at this step; it ends on its own."
        )
    return Reply(
        running_sentence(build),
        action=ProposedAction(
            ActionKind.cancel_build,
            label=f"Stop build {build.number}",
            params={"build_number": str(build.number)},
            confirm=(
                f"Stop build {build.number} of {ctx.app_name}? The code goes back to where it "
                "was before this build."
            ),
        ),
        link=page_link(ctx.app_id, Page.builds),
    )


def _change_request(routed: Routed, ctx: ChatContext) -> Reply:
    if ctx.parked:
        return parked_reply(ctx)
    if ctx.stage is not AppStage.mvp_built:
        return Reply(
            f"Changes come once your first build is ready; {ctx.app_name} is at the "
            f"{ctx.stage_label} stage."
        )
    if ctx.build is not None and ctx.build.running:
        return Reply(f"{running_sentence(ctx.build)} Send your change once it's done.")
    if ctx.iterations_left == 0:
        return Reply(cap_sentence(ctx))
    change = routed.argument.strip()
    if len(change.split()) < 2:
        return Reply("What would you like to change? Tell me in a sentence, e.g. “add a FAQ”.")
    number = ctx.iterations_used + 1
    text = f"Iteration {number} of {ctx.iteration_limit} ({ctx.tier} tier): “{change}”."
    if number == ctx.iteration_limit:
        text += f" {last_iteration_sentence(ctx)}"
    shown = change if len(change) <= 120 else change[:119].rstrip() + "…"
    return Reply(
        text,
        action=ProposedAction(
            ActionKind.submit_change_request,
            label=f"Submit iteration {number}",
            params={"text": change},
            confirm=f"Submit “{shown}” as iteration {number} of {ctx.iteration_limit}?",
        ),
    )


def _no_gate(ctx: ChatContext, decision: GateChoice) -> Reply:
    if ctx.build is not None and ctx.build.running:
        why = f"{running_sentence(ctx.build)} The decision comes once you've seen it."
    elif ctx.stage is not AppStage.mvp_built:
        why = "The decision comes once you've seen a ready build."
    else:
        why = "The decision comes after you've seen a new build."
    text = f"There's no decision waiting right now. {why}"
    if decision is GateChoice.ship:
        action, link = navigate_to(ctx.app_id, Page.deploy)
        return Reply(f"{text} The deploy check shows whether it's ready.", action, link)
    return Reply(text)


def _decide(decision: GateChoice) -> Callable[[Routed, ChatContext], Reply]:
    def decided(routed: Routed, ctx: ChatContext) -> Reply:
        if ctx.parked:
            return parked_reply(ctx)
        if not ctx.gate_pending:
            return _no_gate(ctx, decision)
        return _GATE_PROPOSALS[decision](ctx)

    return decided


def _gate_action(decision: GateChoice, label: str, confirm: str) -> ProposedAction:
    return ProposedAction(
        ActionKind.resolve_gate, label, params={"decision": decision.value}, confirm=confirm
    )


def _iterate(ctx: ChatContext) -> Reply:
    if ctx.iterations_left == 0:
        return Reply(cap_sentence(ctx))
    text = (
        f"Iterating means describing a change. You have {ctx.iterations_left} of "
        f"{ctx.iteration_limit} iterations left on the {ctx.tier} tier."
    )
    if ctx.iterations_left == 1:
        text += f" The next one is your last iteration on the {ctx.tier} tier."
    confirm = f"Make changes to {ctx.app_name}?"
    return Reply(text, _gate_action(GateChoice.iterate, "Iterate", confirm))


def _ship(ctx: ChatContext) -> Reply:
    version = f" {ctx.latest_version}" if ctx.latest_version else ""
    text = "Shipping starts with the deploy-readiness check."
    if ctx.deploy is not None and ctx.deploy.blockers:
        text += f" Heads-up: {issues(len(ctx.deploy.blockers))} the deploy right now."
    confirm = f"Ship {ctx.app_name}{version}?"
    return Reply(text, _gate_action(GateChoice.ship, "Ship it", confirm))


def _park(ctx: ChatContext) -> Reply:
    text = "Parking keeps everything as it is; nothing runs until you resume it."
    confirm = f"Park {ctx.app_name}? You can resume it any time."
    return Reply(text, _gate_action(GateChoice.park, "Park it", confirm))


_GATE_PROPOSALS: dict[GateChoice, Callable[[ChatContext], Reply]] = {
    GateChoice.iterate: _iterate,
    GateChoice.ship: _ship,
    GateChoice.park: _park,
}


def _resume(routed: Routed, ctx: ChatContext) -> Reply:
    if not ctx.parked:
        return Reply(f"{ctx.app_name} isn't parked; it's at the {ctx.stage_label} stage.")
    return Reply(f"{ctx.app_name} is parked.", action=resume_action(ctx))


def _navigate(routed: Routed, ctx: ChatContext) -> Reply:
    if routed.argument not in set(Page):
        pages = ", ".join(Page)
        return Reply(f"I can open these pages: {pages}.")
    action, link = navigate_to(ctx.app_id, Page(routed.argument))
    return Reply(f"Here's the {routed.argument} page.", action=action, link=link)


_ACTION_REPLIES: dict[Intent, Callable[[Routed, ChatContext], Reply]] = {
    Intent.start_build: _start_build,
    Intent.retry_build: _retry_build,
    Intent.cancel_build: _cancel_build,
    Intent.change_request: _change_request,
    Intent.decide_iterate: _decide(GateChoice.iterate),
    Intent.decide_ship: _decide(GateChoice.ship),
    Intent.decide_park: _decide(GateChoice.park),
    Intent.resume: _resume,
    Intent.navigate: _navigate,
}
