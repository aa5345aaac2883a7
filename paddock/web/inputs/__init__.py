"""Input models: what each action takes, one model per action, shared by the JSON API
(web/api, as request bodies) and the UI's forms (web/ui, through forms.parse), so both doors
apply the same checks and whitespace rules (text.py) and call the same service method."""

from __future__ import annotations

from paddock.web.inputs.agents import VariantIn
from paddock.web.inputs.apps import (
    AnswersIn,
    AppCreate,
    BriefIn,
    BuildCreate,
    ChangeConfirm,
    ChangeCreate,
    ChatAction,
    ChatMessage,
    GateDecision,
    PlanChoice,
    VersionPush,
)
from paddock.web.inputs.attempts import AgentIn, AttemptCreate, RewindIn
from paddock.web.inputs.commits import CommitIn
from paddock.web.inputs.follow_ups import FollowUpCreate
from paddock.web.inputs.merges import MergeIn, PullRequestIn, PushIn
from paddock.web.inputs.previews import PreviewRestart, PreviewStart
from paddock.web.inputs.projects import ProjectCreate, ProjectUpdate, ScriptsIn
from paddock.web.inputs.sandbox import LimitsIn, SandboxIn
from paddock.web.inputs.steps import (
    StepAgentIn,
    StepCreate,
    StepOrder,
    StepPromptIn,
    StepUpdate,
    TaskMoveIn,
)
from paddock.web.inputs.tasks import TaskCreate, TaskUpdate
from paddock.web.inputs.test_runs import TestRunStart

__all__ = [
    "AgentIn",
    "AnswersIn",
    "AppCreate",
    "AttemptCreate",
    "BriefIn",
    "BuildCreate",
    "ChangeConfirm",
    "ChangeCreate",
    "ChatAction",
    "ChatMessage",
    "CommitIn",
    "FollowUpCreate",
    "GateDecision",
    "LimitsIn",
    "MergeIn",
    "PlanChoice",
    "PreviewRestart",
    "PreviewStart",
    "ProjectCreate",
    "ProjectUpdate",
    "PullRequestIn",
    "PushIn",
    "RewindIn",
    "SandboxIn",
    "ScriptsIn",
    "StepAgentIn",
    "StepCreate",
    "StepOrder",
    "StepPromptIn",
    "StepUpdate",
    "TaskCreate",
    "TaskMoveIn",
    "TaskUpdate",
    "TestRunStart",
    "VariantIn",
    "VersionPush",
]
