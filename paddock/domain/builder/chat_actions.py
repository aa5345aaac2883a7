"""What the builder's chat can do, as a typed set: the offline router proposes these, and a
service can offer the same set to a model as tools (`ACTIONS`, each with its parameters'
JSON schema). Nothing here runs an action: a `ProposedAction` is shown in the panel with its
question and its button, and runs only when the founder presses it (the service checks the
app's state again then; the chat's view of it may be a few seconds old).

The app is the panel's: it is never a parameter, so a model cannot aim an action elsewhere.

Also here: the builder pages the chat links to, one fragment each, in one mapping the UI
matches (`PAGE_FRAGMENTS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote

from paddock.domain.builder.chat_intents import Page
from paddock.domain.builder.gates import GateChoice


class ActionKind(StrEnum):
    start_build = "start_build"
    """Start a new build of the app from its brief and plan (no build may be running)."""

    retry_build = "retry_build"
    """Run a failed build again from the start of the stage that failed."""

    cancel_build = "cancel_build"
    """Stop the running build; the code goes back to where it was before it."""

    submit_change_request = "submit_change_request"
    """Submit a change, in the founder's words, as the app's next iteration."""

    resolve_gate = "resolve_gate"
    """Answer the decision after a build: iterate, ship or park."""

    resume_app = "resume_app"
    """Pick a parked app back up where it was left."""

    navigate = "navigate"
    """Open one of the app's builder pages (nothing changes; the UI may skip the question)."""


@dataclass(frozen=True, slots=True)
class ActionParam:
    name: str
    description: str
    choices: tuple[str, ...] = ()  # when not empty, the only values allowed


@dataclass(frozen=True, slots=True)
class ActionSpec:
    kind: ActionKind
    description: str
    parameters: tuple[ActionParam, ...] = ()

    @property
    def name(self) -> str:
        return self.kind.value

    def parameters_schema(self) -> dict[str, object]:
        """The parameters as a JSON schema object (what model tool definitions take): every
        parameter a required string, no others."""
        properties: dict[str, object] = {}
        for param in self.parameters:
            prop: dict[str, object] = {"type": "string", "description": param.description}
            if param.choices:
                prop["enum"] = list(param.choices)
            properties[param.name] = prop
        return {
            "type": "object",
            "properties": properties,
            "required": [param.name for param in self.parameters],
            "additionalProperties": False,
        }


_BUILD_NUMBER = ActionParam("build_number", "The build's number, e.g. '3'.")
ACTIONS: dict[ActionKind, ActionSpec] = {
    spec.kind: spec
    for spec in (
        ActionSpec(
            ActionKind.start_build,
            "Start a new build of the app. Only when no build is running and a plan is picked.",
        ),
        ActionSpec(
            ActionKind.retry_build,
            "Retry a failed build from the stage that failed. Only when it is retryable.",
            (_BUILD_NUMBER,),
        ),
        ActionSpec(
            ActionKind.cancel_build,
            "Stop the running build; its changes are undone.",
            (_BUILD_NUMBER,),
        ),
        ActionSpec(
            ActionKind.submit_change_request,
            "Submit a change request (the next iteration). Counts against the tier's limit.",
            (ActionParam("text", "The change, in the founder's words."),),
        ),
        ActionSpec(
            ActionKind.resolve_gate,
            "Decide what comes after the build the founder has seen. Only when a decision is "
            "pending.",
            (ActionParam("decision", "What comes next.", tuple(GateChoice)),),
        ),
        ActionSpec(ActionKind.resume_app, "Pick a parked app back up."),
        ActionSpec(
            ActionKind.navigate,
            "Open one of the app's builder pages.",
            (ActionParam("page", "The page to open.", tuple(Page)),),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class ProposedAction:
    """An action offered in the panel; it runs when the founder presses `label`."""

    kind: ActionKind
    label: str  # the button's words: "Start build 3"
    params: dict[str, str] = field(default_factory=dict)  # exactly ACTIONS[kind]'s parameters
    confirm: str = ""  # the question above the button: "Start a new build of Yoga booking?"


# The builder page's fragment per page; the UI's sections carry the same ids.
PAGE_FRAGMENTS: dict[Page, str] = {
    Page.brief: "#brief",
    Page.plan: "#plan",
    Page.builds: "#builds",
    Page.versions: "#versions",
    Page.timeline: "#timeline",
    Page.deploy: "#deploy",
    Page.preview: "#preview",
}
PAGE_TITLES: dict[Page, str] = {
    Page.brief: "brief",
    Page.plan: "plan",
    Page.builds: "builds",
    Page.versions: "versions",
    Page.timeline: "timeline",
    Page.deploy: "deploy check",
    Page.preview: "preview",
}


def app_path(app_id: str) -> str:
    return f"/apps/{quote(app_id, safe='')}"


def page_link(app_id: str, page: Page) -> str:
    """`/apps/<id>#<page>`: the app's page (web/ui/builder.py), at one of its sections."""
    return app_path(app_id) + PAGE_FRAGMENTS[page]


def navigate_to(app_id: str, page: Page) -> tuple[ProposedAction, str]:
    """The navigate action to `page` and its link."""
    title = PAGE_TITLES[page]
    action = ProposedAction(
        ActionKind.navigate,
        label=f"Open {title}",
        params={"page": page.value},
        confirm=f"Go to the {title} page?",
    )
    return action, page_link(app_id, page)
