"""Public read models: what the API answers and what events carry, separate from the entities.

Every `/api` route answers with these (or with small response models made of them), and the
event bus makes each event's `data` from one (domain/events.py), so what a client sees of a
resource, and how its secrets are masked, is decided once, here. Each is named after its
entity (`AttemptPublic` for `Attempt`) and built from it with `of`: `AttemptPublic.of(attempt)`.
"""

from paddock.domain.public.agent import AgentSpecPublic, MaskedEnv
from paddock.domain.public.attempts import (
    AttemptPublic,
    DiffPublic,
    DiscardedPublic,
    FileDiffPublic,
    FollowUpPublic,
    ManualCommitPublic,
    MergeRecordPublic,
    PullRequestPublic,
    UsagePublic,
)
from paddock.domain.public.builder import (
    AnswerPublic,
    AppPublic,
    BriefPublic,
    BuildPublic,
    BuildSummaryPublic,
    FeaturePublic,
    PlanOptionPublic,
    QuestionPublic,
    StageTimePublic,
    TemplatePublic,
    TimelineEntryPublic,
    VersionPublic,
)
from paddock.domain.public.chat import (
    ChatBuildPublic,
    ChatContextPublic,
    ChatDeployPublic,
    ChatDonePublic,
    ChatIssuePublic,
    ChatReplyPublic,
    ProposedActionPublic,
)
from paddock.domain.public.decisions import (
    AlignmentPublic,
    ChangeRequestPublic,
    FeatureFlagPublic,
    GateChoicePublic,
    GatePublic,
    IterationsPublic,
    PendingGatePublic,
    RequestMatchPublic,
)
from paddock.domain.public.deploy import (
    DeployCheckPublic,
    DeployPathPublic,
    DeployReadinessPublic,
    PushedPublic,
)
from paddock.domain.public.events import (
    ArtifactsAddedPublic,
    AttemptDeletedPublic,
    DeletedPublic,
    DiffChangedPublic,
    OpenApiUpdatedPublic,
    ResourceUsagePublic,
    StepsUpdatedPublic,
)
from paddock.domain.public.model import PublicModel
from paddock.domain.public.openapi import EndpointChangePublic, EndpointPublic, SpecDiffPublic
from paddock.domain.public.previews import PreviewPublic
from paddock.domain.public.processes import (
    AgentEntryPublic,
    ArtifactPublic,
    LeftOutPublic,
    LogLinePublic,
    ProcessPublic,
    ResourceSamplePublic,
)
from paddock.domain.public.projects import (
    GateFailurePublic,
    LimitsPublic,
    ProjectPublic,
    SandboxConfigPublic,
    ScriptsPublic,
    TaskMovePublic,
    TaskPublic,
    WorkflowStepPublic,
)
from paddock.domain.public.runners import (
    CapacityPublic,
    RunnerCreatedPublic,
    RunnerPublic,
    RunnerSessionPublic,
)
from paddock.domain.public.test_runs import (
    TestCaseResultPublic,
    TestRunPublic,
    TestTotalsPublic,
)

__all__ = [
    "AgentEntryPublic",
    "AgentSpecPublic",
    "AlignmentPublic",
    "AnswerPublic",
    "AppPublic",
    "ArtifactPublic",
    "ArtifactsAddedPublic",
    "AttemptDeletedPublic",
    "AttemptPublic",
    "BriefPublic",
    "BuildPublic",
    "BuildSummaryPublic",
    "CapacityPublic",
    "ChangeRequestPublic",
    "ChatBuildPublic",
    "ChatContextPublic",
    "ChatDeployPublic",
    "ChatDonePublic",
    "ChatIssuePublic",
    "ChatReplyPublic",
    "DeletedPublic",
    "DeployCheckPublic",
    "DeployPathPublic",
    "DeployReadinessPublic",
    "DiffChangedPublic",
    "DiffPublic",
    "DiscardedPublic",
    "EndpointChangePublic",
    "EndpointPublic",
    "FeatureFlagPublic",
    "FeaturePublic",
    "FileDiffPublic",
    "FollowUpPublic",
    "GateChoicePublic",
    "GateFailurePublic",
    "GatePublic",
    "IterationsPublic",
    "LeftOutPublic",
    "LimitsPublic",
    "LogLinePublic",
    "ManualCommitPublic",
    "MaskedEnv",
    "MergeRecordPublic",
    "OpenApiUpdatedPublic",
    "PendingGatePublic",
    "PlanOptionPublic",
    "PreviewPublic",
    "ProcessPublic",
    "ProjectPublic",
    "ProposedActionPublic",
    "PublicModel",
    "PullRequestPublic",
    "PushedPublic",
    "QuestionPublic",
    "RequestMatchPublic",
    "ResourceSamplePublic",
    "ResourceUsagePublic",
    "RunnerCreatedPublic",
    "RunnerPublic",
    "RunnerSessionPublic",
    "SandboxConfigPublic",
    "ScriptsPublic",
    "SpecDiffPublic",
    "StageTimePublic",
    "StepsUpdatedPublic",
    "TaskMovePublic",
    "TaskPublic",
    "TemplatePublic",
    "TestCaseResultPublic",
    "TestRunPublic",
    "TestTotalsPublic",
    "TimelineEntryPublic",
    "UsagePublic",
    "VersionPublic",
    "WorkflowStepPublic",
]
