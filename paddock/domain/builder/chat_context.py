"""The builder chat's view of an app: a snapshot of its state (`ChatContext`), filled by the
service when the panel opens from the app, its latest build, the gate, the iteration count and
the deploy-readiness report, as plain words and numbers (the light and the band are strings,
so the chat stands on its own). Also the `Reply` shape, and the sentences and proposals that
answers and actions share: a parked app offers "resume", a failed build its retry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paddock.domain.builder.apps import AppStage
from paddock.domain.builder.builds import BuildStatus
from paddock.domain.builder.chat_actions import ActionKind, ProposedAction, page_link
from paddock.domain.builder.chat_intents import Page


@dataclass(frozen=True, slots=True)
class BuildView:
    """The app's latest build, as the chat tells it."""

    number: int
    status: BuildStatus
    label: str  # the progress bar's words: "Installing dependencies…"
    error: str | None = None  # the plain sentence of a failure
    failed_stage: str | None = None  # the label of the stage that failed
    retryable: bool = False
    cancellable: bool = False

    @property
    def running(self) -> bool:
        return not self.status.finished


@dataclass(frozen=True, slots=True)
class DeployIssue:
    title: str
    fix: str  # copy-pasteable


@dataclass(frozen=True, slots=True)
class DeployView:
    """The latest deploy-readiness report."""

    light: str  # "green" | "yellow" | "red"
    blockers: tuple[DeployIssue, ...] = ()
    warnings: tuple[DeployIssue, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatContext:
    app_id: str
    app_name: str
    stage: AppStage
    stage_label: str
    features: tuple[str, ...] = ()
    non_goals: tuple[str, ...] = ()
    latest_version: str | None = None
    preview_url: str | None = None
    build: BuildView | None = None  # the latest build
    gate_pending: bool = False
    parked: bool = False
    iterations_used: int = 0
    iteration_limit: int = 0
    tier: str = ""
    alignment_score: int | None = None  # the last change request's, 0-100
    alignment_band: str | None = None  # "green" | "yellow" | "red"
    deploy: DeployView | None = None

    @property
    def iterations_left(self) -> int:
        return max(0, self.iteration_limit - self.iterations_used)

    @property
    def building(self) -> bool:
        return self.build is not None and self.build.running


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    action: ProposedAction | None = None
    link: str | None = None


# --- Sentences the replies share -----------------------------------------------------------------


def step_name(label: str) -> str:
    """A stage's label without its trailing dots: "Installing dependencies…" -> "Installing
    dependencies"."""
    return label.rstrip("…. ")


_CLOSING_QUESTION = re.compile(r"\s*[^.!?]*\?\s*$")


def statement(error: str) -> str:
    """A failure's sentence without the question it may close with ("... Want us to try
    again?", builds.failure_sentence): the chat asks its own, or says why it cannot."""
    return _CLOSING_QUESTION.sub("", error) or error


def issues(count: int) -> str:
    """ "1 issue blocks", "2 issues block"."""
    return "1 issue blocks" if count == 1 else f"{count} issues block"


def parked_reply(ctx: ChatContext) -> Reply:
    return Reply(
        f"{ctx.app_name} is parked, so nothing runs on it. Pick it back up first?",
        action=resume_action(ctx),
    )


def resume_action(ctx: ChatContext) -> ProposedAction:
    return ProposedAction(
        ActionKind.resume_app,
        label=f"Resume {ctx.app_name}",
        confirm=f"Pick {ctx.app_name} back up where you left it?",
    )


def running_sentence(build: BuildView) -> str:
    return f"Build {build.number} is running: {step_name(build.label)}."


def cap_sentence(ctx: ChatContext) -> str:
    return (
        f"You've used all {ctx.iteration_limit} iterations on the {ctx.tier} tier. That's a hard "
        "cap: no more change requests on this tier. You can still ship or park the app."
    )


def last_iteration_sentence(ctx: ChatContext) -> str:
    return f"This is your last iteration on the {ctx.tier} tier."


def start_build_reply(ctx: ChatContext) -> Reply | None:
    """The proposal of a new build, or None when the state does not allow one."""
    if ctx.parked or ctx.building or ctx.stage is not AppStage.building:
        return None
    number = ctx.build.number + 1 if ctx.build else 1
    return Reply(
        f"Build {number} will run every stage: setting up, writing code, installing "
        "dependencies and running checks.",
        action=ProposedAction(
            ActionKind.start_build,
            label=f"Start build {number}",
            confirm=f"Start a new build of {ctx.app_name}?",
        ),
        link=page_link(ctx.app_id, Page.builds),
    )


def failure_reply(ctx: ChatContext, build: BuildView) -> Reply:
    """What went wrong with a failed (or cancelled) build, and the retry where it is allowed."""
    if build.status is BuildStatus.cancelled:
        said = f"Build {build.number} was cancelled."
    elif build.failed_stage:
        said = f"Build {build.number} failed at the step “{step_name(build.failed_stage)}”."
    else:
        said = f"Build {build.number} failed."
    if build.error:
        said += f" {statement(build.error)}"
    link = page_link(ctx.app_id, Page.builds)
    if ctx.parked:
        return Reply(f"{said} {parked_reply(ctx).text}", action=resume_action(ctx), link=link)
    if build.retryable:
        where = f" from “{step_name(build.failed_stage)}”" if build.failed_stage else ""
        return Reply(
            f"{said} Want me to try again{where}?",
            action=ProposedAction(
                ActionKind.retry_build,
                label=f"Retry build {build.number}",
                params={"build_number": str(build.number)},
                confirm=f"Try build {build.number} of {ctx.app_name} again{where}?",
            ),
            link=link,
        )
    said += " It can't be retried as it is."
    fresh = start_build_reply(ctx)
    if fresh is not None:
        return Reply(f"{said} Start a new build instead?", action=fresh.action, link=link)
    if ctx.stage is AppStage.mvp_built:
        said += " Describe the change again and it becomes a new build."
    return Reply(said, link=link)
