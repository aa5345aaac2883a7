"""The public read models (domain/public/): what any response or event may show of an entity.

An environment is shown masked wherever it sits: the values of secret-looking names and of
the names marked in `secret_env` (an attempt's, a follow-up's or a workflow step's agent), of
secret-looking names only where nothing is marked (an agent profile's variant).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from pydantic import BaseModel

from paddock.domain.entities import AgentSpec, Attempt, FollowUp, Process, Scripts, WorkflowStep
from paddock.domain.events import StepsUpdated
from paddock.domain.public import (
    AgentSpecPublic,
    AttemptPublic,
    FollowUpPublic,
    MaskedEnv,
    ProcessPublic,
    StepsUpdatedPublic,
)
from paddock.domain.secrets import MASK
from paddock.domain.states import AttemptStatus, FollowUpStatus, ProcessStatus, RunReason

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
AGENT = AgentSpec(
    profile="script",
    command="make",
    env={"MARKED": "v1", "API_TOKEN": "v2", "PLAIN": "shown"},
    secret_env=["MARKED"],
)


def an_attempt(agent: AgentSpec = AGENT) -> Attempt:
    return Attempt(
        id="a1",
        task_id="t1",
        project_id="p1",
        status=AttemptStatus.awaiting_review,
        branch="paddock/a1",
        base_branch="main",
        base_commit="0" * 40,
        worktree_path="/nowhere",
        agent=agent,
        prompt="do it",
        scripts=Scripts(),
        error=None,
        debug_id=None,
        created_at=NOW,
        updated_at=NOW,
    )


def test_an_agents_marked_and_secret_looking_values_are_masked() -> None:
    shown = AttemptPublic.of(an_attempt()).model_dump(mode="json")
    assert shown["agent"]["env"] == {"MARKED": MASK, "API_TOKEN": MASK, "PLAIN": "shown"}
    assert shown["agent"]["secret_env"] == ["MARKED"]
    assert shown["agent"]["command"] == "make" and shown["id"] == "a1"
    # The entity is not changed: the services' own objects keep their values.
    assert AGENT.env["MARKED"] == "v1"


def test_every_model_with_an_agent_masks_it() -> None:
    """A follow-up's agent, a workflow step's (inside the event that carries all steps)."""
    follow_up = FollowUp(
        id="f1",
        attempt_id="a1",
        prompt="again",
        status=FollowUpStatus.queued,
        process_id=None,
        created_at=NOW,
        agent=AgentSpec(env={"X": "v"}, secret_env=["X"]),
    )
    assert FollowUpPublic.of(follow_up).agent == AgentSpecPublic.of(
        AgentSpec(env={"X": MASK}, secret_env=["X"])
    )
    step = WorkflowStep(
        id="s1",
        project_id="p1",
        name="Review",
        position=0,
        color="#fff",
        agent=AgentSpec(env={"GITHUB_TOKEN": "t", "MODEL": "m"}),
    )
    shown = StepsUpdatedPublic.of(StepsUpdated("p1", [step, replace(step, agent=None)]))
    assert shown.model_dump()["steps"][0]["agent"]["env"] == {"GITHUB_TOKEN": MASK, "MODEL": "m"}
    assert shown.steps[1].agent is None


def test_an_env_without_marked_names_masks_the_secret_looking_ones() -> None:
    class Variant(BaseModel):
        env: MaskedEnv

    shown = Variant(env={"OPENAI_API_KEY": "k", "MODEL": "m", "MAX_THINKING_TOKENS": "9"})
    assert shown.env == {"OPENAI_API_KEY": MASK, "MODEL": "m", "MAX_THINKING_TOKENS": "9"}


def test_a_plain_env_comes_back_as_it_is() -> None:
    plain = AgentSpec(env={"PLAIN": "x", "OTHER": "y"})
    assert AgentSpecPublic.of(plain).env == {"PLAIN": "x", "OTHER": "y"}
    # Masking twice changes nothing: a masked model read again stays as it was.
    once = AgentSpecPublic.of(AGENT)
    assert AgentSpecPublic.read(once) == once


def test_a_process_shows_no_pid() -> None:
    process = Process(
        id="p1",
        attempt_id="a1",
        reason=RunReason.agent,
        command=["sh", "-c", "true"],
        status=ProcessStatus.running,
        pid=4242,
        pid_start_time=987654,
        exit_code=None,
        error=None,
        debug_id=None,
        line_count=3,
        created_at=NOW,
        started_at=NOW,
        finished_at=None,
    )
    assert "pid" not in ProcessPublic.model_fields
    assert "pid_start_time" not in ProcessPublic.model_fields
    shown = ProcessPublic.of(process).model_dump(mode="json")
    assert "pid" not in shown and "pid_start_time" not in shown
    assert "4242" not in str(shown) and "987654" not in str(shown)
    assert shown["line_count"] == 3 and shown["status"] == "running"
    assert "pid" not in ProcessPublic.model_json_schema()["properties"]
