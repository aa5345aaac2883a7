"""Input models: what each action takes, one model per action, shared by the JSON API
(web/api, as request bodies) and the UI's forms (web/ui, through forms.parse), so both doors
apply the same checks and whitespace rules (text.py) and call the same service method."""

from __future__ import annotations

from paddock.inputs.agents import VariantIn
from paddock.inputs.apps import (
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
from paddock.inputs.attempts import AgentIn, AttemptCreate, RewindIn
from paddock.inputs.commits import CommitIn
from paddock.inputs.follow_ups import FollowUpCreate
from paddock.inputs.merges import MergeIn, PullRequestIn, PushIn
from paddock.inputs.previews import PreviewRestart, PreviewStart
from paddock.inputs.projects import ProjectCreate, ProjectUpdate, ScriptsIn
from paddock.inputs.sandbox import LimitsIn, SandboxIn
from paddock.inputs.steps import (
    StepAgentIn,
    StepCreate,
    StepOrder,
    StepPromptIn,
    StepUpdate,
    TaskMoveIn,
)
from paddock.inputs.tasks import TaskCreate, TaskUpdate
from paddock.inputs.test_runs import TestRunStart

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
