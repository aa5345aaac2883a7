"""The Agent tab's conversation: an attempt's agent turns and their entries, made ready for the
templates (tool results paired with their calls, usage per turn, paths made relative).

The templates are the only renderer (decision 005): the page renders every turn whole, and a
turn that still runs streams its new entries as HTML fragments that append to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from paddock.domain.entities import Attempt, Process
from paddock.domain.entries import AgentEntry, EntryKind
from paddock.domain.states import AttemptStatus, RunReason
from paddock.domain.usage import Usage, UsageReport, per_turn
from paddock.services.processes.entries import EntryService

TURN_REASONS = (RunReason.agent, RunReason.follow_up)
PAGE = 5000  # entries per read (the store's page); a turn is read whole


def is_turn(process: Process) -> bool:
    return process.reason in TURN_REASONS


def dom_key(*parts: str) -> str:
    """A short id-safe key for DOM ids built from values of any shape (tool call ids)."""
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Item:
    """One thing shown in a turn: an entry, and for a tool call its result once known."""

    entry: AgentEntry
    result: AgentEntry | None = None
    call_key: str = ""  # tool calls and their results: the DOM key of the call

    @property
    def kind(self) -> str:
        return self.entry.kind.value

    @property
    def payload(self) -> dict[str, Any]:
        return self.entry.payload


@dataclass(slots=True)
class Turn:
    process: Process
    items: list[Item] = field(default_factory=list)
    usage: Usage | None = None
    session_id: str | None = None
    model: str | None = None
    last_seq: int = 0
    can_rewind: bool = False
    number: int = 0  # 1 for the attempt's first turn

    @property
    def id(self) -> str:
        return self.process.id

    @property
    def live(self) -> bool:
        """Still producing entries: the page streams the rest."""
        return not self.process.status.finished


def call_key(process_id: str, call_id: str) -> str:
    return dom_key(process_id, call_id)


def pair(entries: Sequence[AgentEntry], known_calls: Iterable[str] = ()) -> list[Item]:
    """Entries as items: a tool result goes with its call (by id) when the call is among
    `entries` or `known_calls` (calls shown earlier); otherwise it stands on its own."""
    items: list[Item] = []
    calls: dict[str, int] = {}  # call id → index in items
    earlier = set(known_calls)
    for entry in entries:
        if entry.kind is EntryKind.tool_call:
            cid = str(entry.payload.get("id", ""))
            calls[cid] = len(items)
            items.append(Item(entry, call_key=call_key(entry.process_id, cid)))
        elif entry.kind is EntryKind.tool_result:
            cid = str(entry.payload.get("id", ""))
            at = calls.get(cid)
            if at is not None and items[at].result is None:
                items[at] = Item(items[at].entry, entry, items[at].call_key)
            elif cid in earlier:  # the call is on the page already: the result joins it there
                items.append(Item(entry, call_key=call_key(entry.process_id, cid)))
            else:
                items.append(Item(entry))
        else:
            items.append(Item(entry))
    return items


async def read_all(source: EntryService, process_id: str) -> list[AgentEntry]:
    entries: list[AgentEntry] = []
    while True:
        page = await source.read(process_id, after=entries[-1].seq if entries else 0, limit=PAGE)
        entries.extend(page)
        if len(page) < PAGE:
            return entries


def turn_usage(
    processes: Sequence[Process], entries: dict[str, list[AgentEntry]]
) -> dict[str, Usage]:
    """What each turn spent, from its usage entries (running totals counted once)."""
    reports = [
        UsageReport(p.id, p.attempt_id, "", p.agent_session, e.payload)
        for p in processes
        for e in entries.get(p.id, [])
        if e.kind is EntryKind.usage
    ]
    return per_turn(reports)


def rewindable(attempt: Attempt, process: Process) -> bool:
    return (
        not attempt.status.busy
        and attempt.status is not AttemptStatus.vanished
        and process.status.finished
        and not process.dropped
        and process.commit_before is not None
    )


async def load_turns(
    source: EntryService,
    attempt: Attempt,
    processes: Sequence[Process],
    *,
    whole: Collection[str] | None = None,
) -> list[Turn]:
    """The attempt's agent turns, oldest first. Turns in `whole` (None: every turn) come with
    their entries; the others with just what a turn's head shows (usage, session)."""
    turns = [p for p in processes if is_turn(p)]
    entries: dict[str, list[AgentEntry]] = {}
    for proc in turns:
        if whole is None or proc.id in whole:
            entries[proc.id] = await read_all(source, proc.id)
        else:
            entries[proc.id] = await source.read(
                proc.id, limit=PAGE, kinds=[EntryKind.usage, EntryKind.session]
            )
    usage = turn_usage(turns, entries)
    result = []
    for number, proc in enumerate(turns, 1):
        own = entries[proc.id]
        full = whole is None or proc.id in whole
        session = next((e.payload for e in own if e.kind is EntryKind.session), None)
        result.append(
            Turn(
                process=proc,
                items=pair(own) if full else [],
                usage=usage.get(proc.id),
                session_id=str(session["session_id"]) if session else proc.agent_session,
                model=str(session["model"]) if session and session.get("model") else None,
                last_seq=own[-1].seq if own and full else 0,
                can_rewind=rewindable(attempt, proc),
                number=number,
            )
        )
    return result
