"""Public read models of a process and what it leaves: its log lines, its agent entries, its
resource samples, its artifacts. A process's OS identity (pid and start time) is the
supervisor's business and never shown."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

from pydantic import Field

from paddock.domain.artifact import Artifact, ArtifactKind
from paddock.domain.autocommit import LeftOut, LeftOutReason
from paddock.domain.entities import LogLine, Process, ResourceSample
from paddock.domain.entries import AgentEntry, EntryKind
from paddock.domain.public.model import PublicModel
from paddock.domain.states import LogStream, ProcessStatus, RunReason


class LeftOutPublic(PublicModel):
    """A file an auto-commit did not take, and why."""

    path: str = Field(description="Relative to the worktree")
    size: int
    limit: int = Field(description="The limit it passed, in bytes")
    reason: LeftOutReason
    new: bool = Field(description="An untracked file; false: a change to a tracked one")

    @classmethod
    def of(cls, left_out: LeftOut) -> Self:
        return cls.read(left_out)


class ProcessPublic(PublicModel):
    """One supervised process of an attempt (no pid: that stays on the server)."""

    id: str
    attempt_id: str
    reason: RunReason
    command: list[str]
    status: ProcessStatus
    exit_code: int | None
    error: str | None
    debug_id: str | None
    line_count: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    commit_before: str | None = Field(description="Agent turns: the worktree's HEAD before")
    commit_after: str | None = Field(description="... and after")
    agent_session: str | None = Field(description="The agent CLI's own session id")
    dropped: bool = Field(description="Rewound past: kept for the record, hidden by default")
    provider: str = Field(description="The sandbox provider it ran in")
    failure: str | None = Field(description="A sandbox limit that ended it")
    left_out: list[LeftOutPublic] = Field(description="Files its auto-commit did not take")

    @classmethod
    def of(cls, process: Process) -> Self:
        return cls.read(process)


class LogLinePublic(PublicModel):
    """A line a process printed (secret values were redacted before it was stored)."""

    seq: int
    ts: datetime
    stream: LogStream
    text: str
    continued: bool = Field(description="Cut at the length limit; the next line goes on")

    @classmethod
    def of(cls, line: LogLine) -> Self:
        return cls.read(line)

    @classmethod
    def of_many(cls, lines: Iterable[LogLine]) -> list[Self]:
        return cls.read_many(lines)


class ResourceSamplePublic(PublicModel):
    """A process's (its sandbox's) resource use at one moment."""

    seq: int
    ts: datetime
    cpu_percent: float = Field(description="Of one core since the previous sample")
    memory_bytes: int
    peak_bytes: int
    pids: int = Field(description="How many processes the sandbox holds")

    @classmethod
    def of(cls, sample: ResourceSample) -> Self:
        return cls.read(sample)

    @classmethod
    def of_many(cls, samples: Iterable[ResourceSample]) -> list[Self]:
        return cls.read_many(samples)


class AgentEntryPublic(PublicModel):
    """One entry of an agent's normalised conversation, numbered per process from 1."""

    process_id: str
    seq: int
    kind: EntryKind
    payload: dict[str, Any]
    ts: datetime

    @classmethod
    def of(cls, entry: AgentEntry) -> Self:
        return cls.read(entry)

    @classmethod
    def of_many(cls, entries: Iterable[AgentEntry]) -> list[Self]:
        return cls.read_many(entries)


class ArtifactPublic(PublicModel):
    """A file a process produced, kept in Paddock's artifact store."""

    id: str
    attempt_id: str
    process_id: str | None = Field(description="null: made by Paddock itself")
    name: str = Field(description="Its path in the artifact folder")
    kind: ArtifactKind
    size: int
    mime_type: str
    sha256: str
    created_at: datetime

    @classmethod
    def of(cls, artifact: Artifact) -> Self:
        return cls.read(artifact)
