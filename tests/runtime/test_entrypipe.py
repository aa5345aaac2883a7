"""The entry pipeline: stdout lines through a normaliser into numbered entries, stored before
they are published; cut lines joined; a failing normaliser never loses a line."""

from __future__ import annotations

import json

import pytest

from paddock.domain.entries import (
    AgentEntry,
    Entry,
    EntryKind,
    error,
    raw,
    session,
    text_entry,
)
from paddock.domain.states import LogStream
from paddock.runtime.entrypipe import EntrySink
from paddock.runtime.linesplit import Piece

pytestmark = pytest.mark.anyio


class JsonLinesNormaliser:
    """A test double of an adapter's normaliser: {"say": ...} and {"session": ...} lines."""

    def __init__(self) -> None:
        self.finished = False

    def feed(self, line: str) -> list[Entry]:
        if line == "boom":
            raise ValueError("a normaliser bug")
        event = json.loads(line)
        if "session" in event:
            return [session(event["session"])]
        return [text_entry(EntryKind.assistant_message, event["say"])]

    def finish(self) -> list[Entry]:
        self.finished = True
        return [text_entry(EntryKind.thinking, "finished")]


def lines(*texts: str, continued: bool = False) -> list[Piece]:
    data = "".join(t + "\n" for t in texts).encode()
    return [Piece(data, len(texts), continued)]


async def test_entries_are_numbered_stored_then_published():
    stored: list[AgentEntry] = []
    published_before_stored: list[int] = []

    async def persist(batch: list[AgentEntry]) -> None:
        stored.extend(batch)

    normaliser = JsonLinesNormaliser()
    sink = EntrySink("p1", normaliser, persist)
    subscription, closed = sink.subscribe()
    assert not closed
    sink.add([text_entry(EntryKind.user_message, "the prompt")])
    sink.observe(LogStream.stdout, lines('{"session": "s-1"}', '{"say": "hello"}'))
    sink.observe(LogStream.stderr, lines('{"say": "not from stdout"}'))
    sink.observe(LogStream.stdout, lines("boom", "not json at all"))
    await sink.close()

    received = []
    while (item := await subscription.get(1)) is not None:
        assert isinstance(item, AgentEntry)
        if item not in stored:
            published_before_stored.append(item.seq)
        received.append(item)
    assert not published_before_stored
    assert [e.seq for e in stored] == list(range(1, 7))
    assert received == stored
    assert [(e.kind, e.payload) for e in stored] == [
        (EntryKind.user_message, {"text": "the prompt"}),
        (EntryKind.session, {"session_id": "s-1", "model": None}),
        (EntryKind.assistant_message, {"text": "hello"}),
        # The normaliser raised on both lines: kept raw, nothing lost, the agent runs on.
        (EntryKind.raw, {"text": "boom"}),
        (EntryKind.raw, {"text": "not json at all"}),
        (EntryKind.thinking, {"text": "finished"}),
    ]
    assert normaliser.finished
    assert sink.session_id == "s-1" and sink.summary == "hello"
    assert sink.subscribe()[1] is True  # a reader arriving now knows the sink is done


async def test_the_sink_notes_the_last_error_the_agent_said():
    """Why a failed turn failed, in the agent's words: its last error entry (a blank one says
    nothing)."""

    async def persist(batch: list[AgentEntry]) -> None:
        pass

    sink = EntrySink("p1", JsonLinesNormaliser(), persist)
    assert sink.last_error is None
    sink.add([error("Reconnecting... 1/3"), text_entry(EntryKind.assistant_message, "hm")])
    sink.add([error("Invalid API key"), error("  ")])
    await sink.close()
    assert sink.last_error == "Invalid API key"


async def test_a_line_cut_at_the_log_limit_is_normalised_whole():
    stored: list[AgentEntry] = []

    async def persist(batch: list[AgentEntry]) -> None:
        stored.extend(batch)

    sink = EntrySink("p1", JsonLinesNormaliser(), persist)
    text = "x" * 3000
    whole = json.dumps({"say": text})
    sink.observe(LogStream.stdout, lines(whole[:1000], continued=True))
    sink.observe(LogStream.stdout, lines(whole[1000:2000], continued=True))
    sink.observe(LogStream.stdout, lines(whole[2000:]))
    await sink.close()
    assert stored[0].payload == {"text": text}
    assert stored[1].kind is EntryKind.thinking  # then only the normaliser's end


async def test_a_store_failure_is_logged_and_readers_still_get_the_entries(caplog):
    async def failing(batch: list[AgentEntry]) -> None:
        raise OSError("disk full")

    sink = EntrySink("p1", JsonLinesNormaliser(), failing)
    subscription, _ = sink.subscribe()
    sink.add([raw("one")])
    await sink.close()
    first = await subscription.get(1)
    assert isinstance(first, AgentEntry) and first.payload == {"text": "one"}
    assert "could not be stored" in caplog.text
