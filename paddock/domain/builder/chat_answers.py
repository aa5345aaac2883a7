"""The builder chat's answers to questions about an app: where it is, what blocks its deploy,
where its preview is, which version, what it does, how far a change drifted, how many
iterations are left. Each answer is read from the snapshot (`ChatContext`) and links to the
page that shows more; what the snapshot does not hold is said to be not there yet, never
guessed. An answer may carry the one action it leads to (a failed build's retry, a parked
app's resume, the deploy check), proposed for confirmation like any other.
"""

from __future__ import annotations

from collections.abc import Callable

from paddock.domain.builder.apps import AppStage
from paddock.domain.builder.builds import BuildStatus
from paddock.domain.builder.chat_actions import navigate_to, page_link
from paddock.domain.builder.chat_context import (
    ChatContext,
    DeployIssue,
    Reply,
    cap_sentence,
    failure_reply,
    issues,
    parked_reply,
    running_sentence,
)
from paddock.domain.builder.chat_intents import Intent, Page

HELP_TEXT = (
    "Ask me about your app: “what's the status?”, “what's blocking my deploy?”, “where's my "
    "preview?”, “what version is this?”, “what are the features?”, “am I drifting from the "
    "plan?”, “how many iterations do I have left?”. Or ask me to do something: “build it”, "
    "“try again”, “stop the build”, “add a dark mode”, “ship it”, “let's iterate”, “park it”, "
    "“resume”, “show me the timeline”. I always ask before I do anything."
)

# What comes next at each stage before the first build, and the page where it happens.
_NEXT_STEP = {
    AppStage.idea: ("answer a few questions so the brief can be written", Page.brief),
    AppStage.brief: ("make a plan from the brief and pick one", Page.plan),
    AppStage.plan: ("pick one of the plan options, then start the build", Page.plan),
    AppStage.building: ("start the build (say “build it”)", Page.builds),
}

_BAND_MEANING = {
    "green": "it fits your original scope",
    "yellow": "it drifts a little from the brief; worth a second look",
    "red": "it's far from the brief; consider whether it belongs in this app",
}


def answer(intent: Intent, ctx: ChatContext) -> Reply:
    """The answer to a question (`intent` is not an action)."""
    return _ANSWERS.get(intent, _unknown)(ctx)


def _status(ctx: ChatContext) -> Reply:
    if ctx.parked:
        return parked_reply(ctx)
    build = ctx.build
    if build is not None and build.running:
        return Reply(running_sentence(build), link=page_link(ctx.app_id, Page.builds))
    if build is not None and build.status in (BuildStatus.failed, BuildStatus.cancelled):
        return failure_reply(ctx, build)
    if ctx.gate_pending:
        made = f" as {ctx.latest_version}" if ctx.latest_version else ""
        number = f"Build {build.number}" if build else "Your build"
        return Reply(
            f"{number} is ready{made}. You've seen your MVP. Ready to decide what's next? "
            "You can iterate, ship or park.",
            link=ctx.preview_url or page_link(ctx.app_id, Page.preview),
        )
    if ctx.stage in _NEXT_STEP:
        step, page = _NEXT_STEP[ctx.stage]
        return Reply(
            f"{ctx.app_name} is at the {ctx.stage_label} stage. Next: {step}.",
            link=page_link(ctx.app_id, page),
        )
    text = f"{ctx.app_name} is at the {ctx.stage_label} stage."
    if ctx.latest_version:
        text += f" The latest version is {ctx.latest_version}."
    return Reply(f"{text} {_iterations(ctx).text}", link=page_link(ctx.app_id, Page.versions))


def _issue_line(issue: DeployIssue) -> str:
    return f"{issue.title.rstrip('. ')}. Fix: {issue.fix}"


def _deploy_blockers(ctx: ChatContext) -> Reply:
    deploy = ctx.deploy
    if deploy is None:
        action, link = navigate_to(ctx.app_id, Page.deploy)
        return Reply(
            f"There's no deploy-readiness check for {ctx.app_name} yet. Open the deploy check "
            "to run one?",
            action=action,
            link=link,
        )
    if deploy.blockers:
        count = len(deploy.blockers)
        lines = [f"The light is {deploy.light}: {issues(count)} the deploy."]
        lines += [f"{n}. {_issue_line(issue)}" for n, issue in enumerate(deploy.blockers, 1)]
    else:
        lines = [f"Nothing blocks the deploy: the light is {deploy.light}."]
    if deploy.warnings:
        lines.append("Worth a look too:")
        lines += [f"- {_issue_line(issue)}" for issue in deploy.warnings]
    return Reply("\n".join(lines), link=page_link(ctx.app_id, Page.deploy))


def _preview(ctx: ChatContext) -> Reply:
    if ctx.preview_url:
        of = f" of {ctx.latest_version}" if ctx.latest_version else ""
        return Reply(f"Your preview{of} is here: {ctx.preview_url}", link=ctx.preview_url)
    build = ctx.build
    if build is not None and build.running:
        return Reply(
            f"There's no preview yet. {running_sentence(build)}",
            link=page_link(ctx.app_id, Page.builds),
        )
    if build is not None and build.status in (BuildStatus.failed, BuildStatus.cancelled):
        failed = failure_reply(ctx, build)
        return Reply(f"There's no preview yet. {failed.text}", failed.action, failed.link)
    return Reply("There's no preview running: a preview starts once a build is ready.")


def _version(ctx: ChatContext) -> Reply:
    running = ctx.build is not None and ctx.build.running
    if ctx.latest_version is None:
        text = "There's no version yet: the first one is made when a build is ready."
    else:
        text = f"The latest version is {ctx.latest_version}."
    if ctx.build is not None and running:
        text += f" {running_sentence(ctx.build)}"
    return Reply(text, link=page_link(ctx.app_id, Page.versions))


def _features(ctx: ChatContext) -> Reply:
    link = page_link(ctx.app_id, Page.brief)
    if not ctx.features:
        return Reply(f"The brief of {ctx.app_name} has no features yet.", link=link)
    count = len(ctx.features)
    lines = [f"{ctx.app_name} does {count} thing{'s' if count > 1 else ''}:"]
    lines += [f"- {feature}" for feature in ctx.features]
    if ctx.non_goals:
        lines.append("Not in scope for now:")
        lines += [f"- {goal}" for goal in ctx.non_goals]
    return Reply("\n".join(lines), link=link)


def _alignment(ctx: ChatContext) -> Reply:
    link = page_link(ctx.app_id, Page.brief)
    if ctx.alignment_score is None:
        return Reply(
            "No change request has been scored yet. Each change you ask for gets an alignment "
            "score (0-100) against your original brief.",
            link=link,
        )
    text = f"Your last change request scored {ctx.alignment_score}/100 against the brief"
    band = ctx.alignment_band
    if band in _BAND_MEANING:
        text += f" ({band}): {_BAND_MEANING[band]}."
    else:
        text += f" ({band})." if band else "."
    return Reply(text, link=link)


def _iterations(ctx: ChatContext) -> Reply:
    if ctx.iterations_left == 0:
        return Reply(cap_sentence(ctx))
    text = (
        f"You've used {ctx.iterations_used} of {ctx.iteration_limit} iterations on the "
        f"{ctx.tier} tier; {ctx.iterations_left} left."
    )
    if ctx.iterations_left == 1:
        text += f" The next one is your last iteration on the {ctx.tier} tier."
    return Reply(text)


def _help(ctx: ChatContext) -> Reply:
    return Reply(HELP_TEXT)


def _unknown(ctx: ChatContext) -> Reply:
    return Reply(f"Sorry, I didn't catch that. {HELP_TEXT}")


_ANSWERS: dict[Intent, Callable[[ChatContext], Reply]] = {
    Intent.status: _status,
    Intent.deploy_blockers: _deploy_blockers,
    Intent.preview: _preview,
    Intent.version: _version,
    Intent.features: _features,
    Intent.alignment: _alignment,
    Intent.iterations: _iterations,
    Intent.help: _help,
    Intent.unknown: _unknown,
}
