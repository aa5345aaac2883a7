"""The builder's floating chat: what it knows of an app (a snapshot taken when the panel
opens, and again after an action it ran: never on every message), its replies (with a model
key, the planner's: the model's tool calling over the chat's action set, planners/chat_tools.py;
without one, or when the model fails, the grammar of domain/builder/chat*.py), and the actions
the founder confirmed, each run through the service that owns it (so every refusal is the one
the page would give).

Conversations are not stored: what they decide lives in the app's artifacts (builds, change
requests, decisions), all on the timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from paddock.domain.builder.apps import App
from paddock.domain.builder.brief import Brief
from paddock.domain.builder.builds import Build, BuildStatus
from paddock.domain.builder.chat import (
    BuildView,
    ChatContext,
    DeployIssue,
    DeployView,
    Reply,
    reply,
    route,
)
from paddock.domain.builder.chat_actions import ACTIONS, ActionKind, page_link
from paddock.domain.builder.chat_intents import Page
from paddock.domain.builder.chat_text import MAX_MESSAGE
from paddock.domain.builder.deploy import CheckStatus, Readiness
from paddock.domain.builder.gates import GateChoice
from paddock.domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from paddock.planners import PlannerFailed
from paddock.services.builder.build_parts import BuildParts
from paddock.services.builder.builds import BuildService
from paddock.services.builder.changes import ChangeService
from paddock.services.builder.decisions import DecisionService
from paddock.services.builder.deploy import DeployService

log = logging.getLogger("paddock.builder.chat")

# The first line of an offline answer given because the model failed.
OFFLINE_NOTE = "The assistant could not be reached, so this is the offline answer."

# Where the founder goes once they decided: the change form, the deploy report, the timeline.
_AFTER_DECISION = {
    GateChoice.iterate: Page.builds,
    GateChoice.ship: Page.deploy,
    GateChoice.park: Page.timeline,
}


@dataclass(frozen=True, slots=True)
class Done:
    """What an action did, in words, where to look, and the app as it is now."""

    text: str
    link: str | None
    context: ChatContext


class ChatService:
    def __init__(
        self,
        parts: BuildParts,
        builds: BuildService,
        changes: ChangeService,
        decisions: DecisionService,
        deploys: DeployService,
    ) -> None:
        self.parts = parts
        self.ctx = parts.ctx
        self.builds = builds
        self.changes = changes
        self.decisions = decisions
        self.deploys = deploys
        self._snapshots: dict[str, ChatContext] = {}  # app id -> what the panel was told

    async def open(self, app_id: str) -> ChatContext:
        """The app as the chat sees it, taken now (the panel opened)."""
        context = await self._snapshot(await self.parts.apps.get(app_id))
        self._snapshots[app_id] = context
        return context

    async def say(self, app_id: str, message: str) -> Reply:
        """The reply to one message, from the snapshot the panel opened with: the planner's
        (a model's; any action in it only proposed), else the grammar's. A model that fails
        gets the grammar's answer, said to be the offline one."""
        if len(message) > MAX_MESSAGE:
            raise InvalidInput(
                f"a message is at most {MAX_MESSAGE} characters", code="message_too_long"
            )
        context = self._snapshots.get(app_id) or await self.open(app_id)
        try:
            planner = self.parts.apps.planner()  # asked for each time: keys may change
            said = await planner.chat(context, message)
        except (PlannerFailed, Unavailable) as exc:  # Unavailable: a planner named, no key
            # Neither holds the key: sdk_failure scrubs it from the message and the detail.
            log.warning(
                "the chat's assistant failed, answering offline: %s (%s)",
                exc.message,
                exc.details.get("detail", exc.code),
            )
            offline = reply(route(message), context)
            return replace(offline, text=f"{OFFLINE_NOTE}\n{offline.text}")
        return said if said is not None else reply(route(message), context)

    async def act(self, app_id: str, kind: ActionKind, params: dict[str, str]) -> Done:
        """Run a confirmed action on the app; its service refuses what the state forbids."""
        spec = ACTIONS[kind]
        wanted = {p.name for p in spec.parameters}
        if set(params) != wanted:
            raise InvalidInput(
                f"{kind.value} takes {', '.join(sorted(wanted)) or 'no parameters'}",
                code="bad_chat_action",
            )
        for param in spec.parameters:
            if param.choices and params[param.name] not in param.choices:
                raise InvalidInput(
                    f"{param.name} is one of {', '.join(param.choices)}", code="bad_chat_action"
                )
        app = await self.parts.apps.get(app_id)
        text, link = await self._run(app, kind, params)
        return Done(text, link, await self.open(app_id))

    async def _run(
        self, app: App, kind: ActionKind, params: dict[str, str]
    ) -> tuple[str, str | None]:
        builds_page = page_link(app.id, Page.builds)
        match kind:
            case ActionKind.start_build:
                build = await self.builds.start(app.id)
                return f"Build {build.number} is queued.", builds_page
            case ActionKind.retry_build:
                build = await self.builds.retry((await self._build(app, params)).id)
                return f"Build {build.number} is queued again.", builds_page
            case ActionKind.cancel_build:
                build = await self.builds.cancel((await self._build(app, params)).id)
                return f"Build {build.number} is cancelled.", builds_page
            case ActionKind.submit_change_request:
                change = await self.changes.create(app.id, params["text"])
                asked = " ".join(q.text for q in change.questions)
                return (
                    f"Your change is noted. To get it right: {asked}",
                    page_link(app.id, Page.builds),
                )
            case ActionKind.resolve_gate:
                gate = await self.decisions.pending(app.id)
                if gate is None:
                    raise Conflict("there is no decision to make now", code="no_pending_gate")
                choice = GateChoice(params["decision"])
                await self.decisions.resolve(gate.id, choice, "said in the chat")
                return f"Decided: {choice.label.lower()}.", page_link(
                    app.id, _AFTER_DECISION[choice]
                )
            case ActionKind.resume_app:
                await self.decisions.resume(app.id)
                return f"{app.name} is back.", builds_page
            case ActionKind.navigate:
                target = Page(params["page"])
                return f"Opening {target.value}.", page_link(app.id, target)

    async def _build(self, app: App, params: dict[str, str]) -> Build:
        builds = await self.builds.list_for_app(app.id)
        number = params["build_number"]
        found = next((b for b in builds if str(b.number) == number), None)
        if found is None:
            # The action is well formed; what it names is not there (as GET /api/builds/{id}).
            raise NotFound(f"the app has no build {number}", code="build_not_found")
        return found

    async def _snapshot(self, app: App) -> ChatContext:
        brief = await self._brief(app)
        builds = await self.builds.list_for_app(app.id)
        versions = await self.deploys.versions.list_for_app(app.id)
        budget = await self.changes.budget(app.id)
        gate = await self.decisions.pending(app.id)
        alignment = await self.changes.alignment(app.id) if brief is not None else None
        kept = self.deploys.kept(app.id, versions[0].commit) if versions else None
        return ChatContext(
            app_id=app.id,
            app_name=app.name,
            stage=app.stage,
            stage_label=app.stage.label,
            features=tuple(f.name for f in brief.features) if brief else (),
            non_goals=tuple(brief.non_goals) if brief else (),
            latest_version=versions[0].name if versions else None,
            preview_url=await self._preview_url(builds),
            build=_build_view(builds[0]) if builds else None,
            gate_pending=gate is not None,
            parked=app.parked,
            iterations_used=budget.used,
            iteration_limit=budget.limit,
            tier=budget.tier.title(),
            alignment_score=alignment.score if alignment and alignment.requests else None,
            alignment_band=alignment.band.value if alignment and alignment.requests else None,
            deploy=_deploy_view(kept) if kept else None,
        )

    async def _brief(self, app: App) -> Brief | None:
        try:
            return (await self.parts.apps.brief(app.id))[1]
        except Conflict:  # no brief yet: the founder is still answering its questions
            return None

    async def _preview_url(self, builds: list[Build]) -> str | None:
        ready = next((b for b in builds if b.status is BuildStatus.ready and b.preview_id), None)
        if ready is None or ready.preview_id is None:
            return None
        preview = await self.parts.previews.get(ready.preview_id)
        return self.parts.previews.url(preview) if preview.status.active else None


def _build_view(build: Build) -> BuildView:
    failed = build.failed_stage.label if build.failed_stage else None
    return BuildView(
        number=build.number,
        status=build.status,
        label=build.status.label,
        error=build.error,
        failed_stage=failed,
        retryable=build.status in (BuildStatus.failed, BuildStatus.cancelled),
        cancellable=not build.status.finished,
    )


def _deploy_view(kept: Readiness) -> DeployView:
    return DeployView(
        light=kept.light.value,
        blockers=tuple(
            DeployIssue(c.title, c.fix or c.message)
            for c in kept.checks
            if c.status is CheckStatus.fail
        ),
        warnings=tuple(
            DeployIssue(c.title, c.fix or c.message)
            for c in kept.checks
            if c.status is CheckStatus.warn
        ),
    )
