"""The builder's floating chat, offline: what founders say, routed to intents; answers read
from the app's state; actions proposed only where the state allows them."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from paddock.domain.builder.apps import AppStage
from paddock.domain.builder.builds import BuildStatus, failure_sentence
from paddock.domain.builder.chat import (
    ACTIONS,
    PAGE_FRAGMENTS,
    ActionKind,
    BuildView,
    ChatContext,
    DeployIssue,
    DeployView,
    Intent,
    Page,
    Reply,
    Routed,
    page_link,
    reply,
    route,
)
from paddock.domain.builder.chat_answers import HELP_TEXT
from paddock.domain.builder.chat_text import MAX_MESSAGE, normalise

I = Intent  # noqa: E741 (the table below reads better with a short name)

PHRASINGS = [
    # change requests: the change in the founder's words, politeness removed
    ("can you add a dark mode", I.change_request, "add a dark mode"),
    ("Change the header to blue", I.change_request, "Change the header to blue"),
    (
        "I want users to be able to upload photos",
        I.change_request,
        "users to be able to upload photos",
    ),
    (
        "Hey Paddock, could you please make the buttons bigger? Thanks!",
        I.change_request,
        "make the buttons bigger",
    ),
    ("I'd like a contact form, please!", I.change_request, "a contact form"),
    ("how about a FAQ page?", I.change_request, "a FAQ page"),
    ("the header should be blue", I.change_request, "the header should be blue"),
    ("Customers should be able to pay by card", I.change_request, None),
    ("can I add a deploy button?", I.change_request, "add a deploy button"),
    ("add a retry button to the form", I.change_request, "add a retry button to the form"),
    ("Show prices in euros", I.change_request, "Show prices in euros"),
    ("Can you add a café menu 🍰?", I.change_request, "add a café menu 🍰"),
    # deploy questions: never a ship
    ("What's blocking my deploy?", I.deploy_blockers, ""),
    ("whats blocking my deploy", I.deploy_blockers, ""),
    ("WHAT\u2019S BLOCKING MY DEPLOY", I.deploy_blockers, ""),
    ("why can't I ship", I.deploy_blockers, ""),
    ("why cant i ship?", I.deploy_blockers, ""),
    ("is it ready to launch", I.deploy_blockers, ""),
    ("can I ship?", I.deploy_blockers, ""),
    ("can we go live?", I.deploy_blockers, ""),
    ("show me the deploy blockers", I.deploy_blockers, ""),
    ("do I need to fix anything before launch?", I.deploy_blockers, ""),
    # gate decisions
    ("ship it", I.decide_ship, ""),
    ("ship it?", I.deploy_blockers, ""),
    ("let's deploy", I.decide_ship, ""),
    ("we should ship it now", I.decide_ship, ""),
    ("\uff53\uff48\uff49\uff50 \uff49\uff54", I.decide_ship, ""),  # full-width "ship it"
    ("let's iterate", I.decide_iterate, ""),
    ("I want to make some changes", I.decide_iterate, ""),
    ("pause this project", I.decide_park, ""),
    ("put it on hold for now", I.decide_park, ""),
    # builds
    ("try again", I.retry_build, ""),
    ("Retry!", I.retry_build, ""),
    ("that didn't work, try again", I.retry_build, ""),
    ("can I retry the build?", I.retry_build, ""),
    ("stop the build", I.cancel_build, ""),
    ("please stop", I.cancel_build, ""),
    ("build it", I.start_build, ""),
    ("start building", I.start_build, ""),
    ("Could you start a new build?", I.start_build, ""),
    ("resume", I.resume, ""),
    ("let's pick it back up", I.resume, ""),
    # navigation
    ("show me the timeline", I.navigate, "timeline"),
    ("go to versions", I.navigate, "versions"),
    ("open the deploy page", I.navigate, "deploy"),
    ("take me to my brief", I.navigate, "brief"),
    ("timeline", I.navigate, "timeline"),
    # questions about the app's state
    ("how many iterations do I have left", I.iterations, ""),
    ("do I have any iterations left?", I.iterations, ""),
    ("what tier am I on", I.iterations, ""),
    ("am I drifting from the plan", I.alignment, ""),
    ("is this still in scope?", I.alignment, ""),
    ("where's my preview", I.preview, ""),
    ("can I see my app?", I.preview, ""),
    ("what version is this", I.version, ""),
    ("what are the features", I.features, ""),
    ("what does it do?", I.features, ""),
    ("how's it going?", I.status, ""),
    ("why did my build fail?", I.status, ""),
    ("status", I.status, ""),
    ("help", I.help, ""),
    ("what can you do?", I.help, ""),
    ("Hi!", I.help, ""),
    ("thanks", I.help, ""),
    ("what now?", I.status, ""),
    # nothing to go on
    ("", I.unknown, ""),
    ("   \n\t ", I.unknown, ""),
    ("?!", I.unknown, ""),
    ("what is the meaning of life", I.unknown, ""),
    ("デプロイ", I.unknown, ""),
]


@pytest.mark.parametrize(("message", "intent", "argument"), PHRASINGS)
def test_a_founder_phrasing_routes_to_its_intent(
    message: str, intent: Intent, argument: str | None
) -> None:
    routed = route(message)
    assert routed.intent is intent
    if argument is not None:
        assert routed.argument == argument


def test_the_table_is_wide() -> None:
    assert len(PHRASINGS) >= 40
    assert {intent for _, intent, _ in PHRASINGS} == set(Intent)


def test_words_are_normalised_whatever_the_typing() -> None:
    assert normalise("What\u2019s   UP?! I'm here, it's fine; app's ok") == (
        "what is up i am here it is fine app ok"
    )
    assert normalise("dont isnt whats theres") == "do not is not what is there is"


def test_a_very_long_message_is_capped_and_routed_quickly() -> None:
    routed = route("add " + "a really long wish! " * 1000)
    assert routed.intent is Intent.change_request
    assert 0 < len(routed.argument) <= MAX_MESSAGE
    assert routed.argument.startswith("add a really long wish")
    # Text past the cap is not read: a question there does not change the intent.
    assert route("x " * MAX_MESSAGE + "what's blocking my deploy?").intent is Intent.unknown


def test_every_example_in_the_help_routes_somewhere() -> None:
    examples = re.findall(r"“([^”]+)”", HELP_TEXT)
    assert len(examples) >= 10
    assert [e for e in examples if route(e).intent is Intent.unknown] == []


# --- Replies ---------------------------------------------------------------------------------

APP = ChatContext(
    app_id="app-7",
    app_name="Yoga booking",
    stage=AppStage.mvp_built,
    stage_label="MVP built",
    features=("Book a class", "See the schedule"),
    non_goals=("No payments",),
    latest_version="v0.2",
    preview_url="http://p7.preview.localhost:8000/",
    build=BuildView(2, BuildStatus.ready, BuildStatus.ready.label),
    iterations_used=1,
    iteration_limit=5,
    tier="Partner",
)
RUNNING = BuildView(3, BuildStatus.deps, BuildStatus.deps.label, cancellable=True)
FAILED = BuildView(
    3,
    BuildStatus.failed,
    BuildStatus.failed.label,
    error=failure_sentence(BuildStatus.deps),  # "... Want us to try again?"
    failed_stage=BuildStatus.deps.label,
    retryable=True,
)


def said(message: str, ctx: ChatContext) -> Reply:
    return reply(route(message), ctx)


def test_deploy_blockers_are_listed_with_their_fixes() -> None:
    ctx = replace(
        APP,
        deploy=DeployView(
            "red",
            blockers=(
                DeployIssue("No start command", "Add `web: npm start` to the Procfile"),
                DeployIssue("Secret in the repository", "git rm --cached .env"),
            ),
            warnings=(DeployIssue("No favicon", "Add public/favicon.ico"),),
        ),
    )
    answer = said("What's blocking my deploy?", ctx)
    assert answer.action is None  # a question is answered, nothing is shipped
    assert answer.link == "/apps/app-7#deploy"
    assert "red" in answer.text and "2 issues block" in answer.text
    assert "1. No start command. Fix: Add `web: npm start` to the Procfile" in answer.text
    assert "2. Secret in the repository. Fix: git rm --cached .env" in answer.text
    assert "- No favicon. Fix: Add public/favicon.ico" in answer.text


def test_a_green_light_says_nothing_blocks() -> None:
    answer = said("is it ready to launch?", replace(APP, deploy=DeployView("green")))
    assert answer.text == "Nothing blocks the deploy: the light is green."


def test_without_a_readiness_check_the_chat_offers_to_run_one() -> None:
    answer = said("why can't I ship", APP)
    assert "no deploy-readiness check" in answer.text
    assert answer.action is not None and answer.action.kind is ActionKind.navigate
    assert answer.action.params == {"page": "deploy"}
    assert answer.link == "/apps/app-7#deploy"


def test_a_failed_build_is_explained_at_its_stage_with_a_retry() -> None:
    ctx = replace(APP, build=FAILED)
    for message in ("what's going on?", "try again"):
        answer = said(message, ctx)
        assert "Build 3 failed at the step “Installing dependencies”" in answer.text
        assert "We hit an issue installing dependencies." in answer.text
        assert answer.text.count("?") == 1 and answer.text.endswith(
            "Want me to try again from “Installing dependencies”?"
        )
        assert answer.action is not None and answer.action.kind is ActionKind.retry_build
        assert answer.action.label == "Retry build 3"
        assert answer.action.params == {"build_number": "3"}


def test_no_retry_when_the_build_is_not_retryable_and_the_reason_is_said() -> None:
    stuck = said("retry", replace(APP, build=replace(FAILED, retryable=False)))
    assert "can't be retried" in stuck.text and stuck.action is None
    assert "try again" not in stuck.text
    running = said("retry", replace(APP, build=RUNNING))
    assert "nothing to retry while it runs" in running.text
    assert running.action is None
    fine = said("retry", APP)
    assert "finished fine and made v0.2" in fine.text and fine.action is None
    assert said("retry", replace(APP, build=None)).action is None


def test_a_failed_first_build_that_cannot_be_retried_offers_a_new_build() -> None:
    ctx = replace(
        APP, stage=AppStage.building, build=replace(FAILED, retryable=False), latest_version=None
    )
    answer = said("retry", ctx)
    assert answer.action is not None and answer.action.kind is ActionKind.start_build
    assert answer.action.label == "Start build 4"


def test_a_build_starts_only_when_a_plan_is_picked_and_none_runs() -> None:
    ready = replace(APP, stage=AppStage.building, build=None, latest_version=None)
    answer = said("build it", ready)
    assert answer.action is not None and answer.action.kind is ActionKind.start_build
    assert answer.action.label == "Start build 1"
    assert answer.action.confirm == "Start a new build of Yoga booking?"
    assert answer.action.params == {}

    busy = said("start building", replace(ready, build=RUNNING))
    assert busy.action is None and "Build 3 is running: Installing dependencies" in busy.text

    unplanned = said("build it", replace(ready, stage=AppStage.plan))
    assert unplanned.action is not None and unplanned.action.kind is ActionKind.navigate
    assert unplanned.link == "/apps/app-7#plan"

    built = said("build it", APP)
    assert built.action is None and "change requests" in built.text


def test_cancel_only_a_running_cancellable_build() -> None:
    answer = said("stop the build", replace(APP, build=RUNNING))
    assert answer.action is not None and answer.action.kind is ActionKind.cancel_build
    assert answer.action.label == "Stop build 3"
    assert said("stop the build", APP).action is None
    stuck = said("stop the build", replace(APP, build=replace(RUNNING, cancellable=False)))
    assert stuck.action is None and "can't be stopped" in stuck.text


def test_a_change_request_is_proposed_with_its_iteration_number() -> None:
    answer = said("Can you add a dark mode?", APP)
    assert answer.action is not None
    assert answer.action.kind is ActionKind.submit_change_request
    assert answer.action.params == {"text": "add a dark mode"}
    assert answer.action.label == "Submit iteration 2"
    assert "Iteration 2 of 5 (Partner tier)" in answer.text
    assert "last iteration" not in answer.text


def test_the_last_iteration_is_announced() -> None:
    answer = said("add a dark mode", replace(APP, iterations_used=4))
    assert "This is your last iteration on the Partner tier." in answer.text
    assert answer.action is not None and answer.action.label == "Submit iteration 5"


def test_the_iteration_cap_is_a_hard_cap() -> None:
    capped = replace(APP, iterations_used=5)
    for message in ("add a dark mode", "how many iterations do I have left"):
        answer = said(message, capped)
        assert answer.action is None
        assert "You've used all 5 iterations on the Partner tier." in answer.text
        assert "hard cap" in answer.text


def test_no_change_request_before_the_mvp_or_while_a_build_runs() -> None:
    early = said("add a dark mode", replace(APP, stage=AppStage.brief, stage_label="Brief"))
    assert early.action is None
    assert "once your first build is ready" in early.text and "at the Brief stage" in early.text
    busy = said("add a dark mode", replace(APP, build=RUNNING))
    assert busy.action is None and "Build 3 is running" in busy.text
    vague = said("add", APP)
    assert vague.action is None and "What would you like to change?" in vague.text


def test_gate_decisions_only_with_a_pending_gate() -> None:
    for message in ("ship it", "let's iterate", "pause this project"):
        answer = said(message, APP)
        assert answer.action is None or answer.action.kind is ActionKind.navigate
        assert "no decision waiting" in answer.text
    gate = replace(APP, gate_pending=True)
    for message, decision, label in (
        ("ship it", "ship", "Ship it"),
        ("let's iterate", "iterate", "Iterate"),
        ("pause this project", "park", "Park it"),
    ):
        answer = said(message, gate)
        assert answer.action is not None and answer.action.kind is ActionKind.resolve_gate
        assert answer.action.params == {"decision": decision}
        assert answer.action.label == label


def test_shipping_at_the_gate_mentions_the_blockers_and_iterating_at_the_cap_is_refused() -> None:
    gate = replace(APP, gate_pending=True)
    blocked = replace(gate, deploy=DeployView("red", (DeployIssue("No HTTPS", "Use TLS"),)))
    assert "1 issue blocks the deploy" in said("ship it", blocked).text
    capped = said("let's iterate", replace(gate, iterations_used=5))
    assert capped.action is None and "hard cap" in capped.text


def test_a_parked_app_offers_resume_and_nothing_else() -> None:
    parked = replace(APP, parked=True, build=FAILED, gate_pending=True)
    for message in ("status", "build it", "try again", "add a dark mode", "ship it", "resume"):
        answer = said(message, parked)
        assert answer.action is not None, message
        assert answer.action.kind is ActionKind.resume_app, message
        assert answer.action.label == "Resume Yoga booking"
    not_parked = said("resume", APP)
    assert not_parked.action is None and "isn't parked" in not_parked.text


def test_questions_are_answered_from_the_context() -> None:
    preview = said("where's my preview", APP)
    assert preview.link == APP.preview_url and "v0.2" in preview.text
    no_preview = said("where's my preview", replace(APP, preview_url=None, build=RUNNING))
    assert no_preview.link == "/apps/app-7#builds" and "no preview yet" in no_preview.text
    assert said("what version is this", APP).text == "The latest version is v0.2."
    none_yet = said("what version is this", replace(APP, latest_version=None))
    assert "no version yet" in none_yet.text
    features = said("what are the features", APP).text
    assert "- Book a class\n- See the schedule" in features and "- No payments" in features
    assert said("how many iterations do I have left", APP).text == (
        "You've used 1 of 5 iterations on the Partner tier; 4 left."
    )


def test_alignment_is_told_by_its_score_and_band() -> None:
    assert "No change request has been scored yet" in said("am I drifting?", APP).text
    scored = replace(APP, alignment_score=55, alignment_band="red")
    text = said("am I drifting from the plan", scored).text
    assert "55/100" in text and "(red)" in text and "far from the brief" in text


def test_status_follows_the_stage() -> None:
    idea = said("status", replace(APP, stage=AppStage.idea, stage_label="Idea", build=None))
    assert "at the Idea stage" in idea.text and idea.link == "/apps/app-7#brief"
    gate = said("what's next?", replace(APP, gate_pending=True))
    assert "Ready to decide what's next?" in gate.text
    running = said("how's it going?", replace(APP, build=RUNNING))
    assert running.text == "Build 3 is running: Installing dependencies."


def test_navigation_links_to_the_builder_page() -> None:
    answer = said("show me the timeline", APP)
    assert answer.link == "/apps/app-7#timeline"
    assert answer.action is not None and answer.action.params == {"page": "timeline"}
    assert reply(Routed(Intent.navigate, "settings"), APP).action is None
    assert set(PAGE_FRAGMENTS) == set(Page)
    assert all(PAGE_FRAGMENTS[p] == f"#{p.value}" for p in Page)
    assert page_link("a/b", Page.deploy) == "/apps/a%2Fb#deploy"


STATES = [
    APP,
    replace(APP, build=FAILED),
    replace(APP, build=RUNNING),
    replace(APP, gate_pending=True),
    replace(APP, parked=True),
    replace(APP, stage=AppStage.building, build=None),
    replace(APP, iterations_used=4),
]


@pytest.mark.parametrize("ctx", STATES)
def test_every_proposed_action_carries_exactly_its_declared_parameters(ctx: ChatContext) -> None:
    for message, _, _ in PHRASINGS:
        action = reply(route(message), ctx).action
        if action is None:
            continue
        declared = {param.name for param in ACTIONS[action.kind].parameters}
        assert set(action.params) == declared, (message, action)
        assert action.label and "?" in action.confirm


def test_the_action_set_can_be_offered_to_a_model_as_tools() -> None:
    assert set(ACTIONS) == set(ActionKind)
    gate = ACTIONS[ActionKind.resolve_gate].parameters_schema()
    assert gate == {
        "type": "object",
        "properties": {
            "decision": {
                "type": "string",
                "description": "What comes next.",
                "enum": ["iterate", "ship", "park"],
            }
        },
        "required": ["decision"],
        "additionalProperties": False,
    }
    assert ACTIONS[ActionKind.start_build].parameters_schema()["properties"] == {}
    assert all(spec.name == kind.value and spec.description for kind, spec in ACTIONS.items())
