"""The entry pipeline: an agent's stdout lines → its adapter's normaliser → numbered entries,
persisted, then published.

Entries are few (tens to thousands per process) next to log lines, so each is persisted before
it is published: a reader that subscribes first and then reads the store misses nothing, and
drops the seqs it already has.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from paddock.domain.entries import AgentEntry, Entry, EntryKind, Normaliser, raw
from paddock.domain.states import LogStream
from paddock.runtime.events import ByProcess, Subscription, Topic
from paddock.runtime.linesplit import Piece

log = logging.getLogger(__name__)

PersistEntries = Callable[[list[AgentEntry]], Awaitable[None]]

# A JSON line longer than this is not parsed (kept raw, cut): no CLI event is anywhere near it.
MAX_PARSED_CHARS = 8 << 20


class EntrySink:
    """Normalises one agent process's stdout into numbered entries."""

    def __init__(
        self, process_id: str, normaliser: Normaliser, persist: PersistEntries, first_seq: int = 1
    ) -> None:
        self.process_id = process_id
        self._normaliser = normaliser
        self._persist = persist
        self._next_seq = first_seq
        self._queue: list[AgentEntry] = []
        self._writer: asyncio.Task[None] | None = None
        self._topic: Topic[AgentEntry | None] = Topic(4096)
        self._partial = ""  # a line cut at the log's length limit, waiting for its rest
        self._closed = False
        self.session_id: str | None = None
        self.summary: str | None = None  # the last assistant message: the turn's summary
        self.last_error: str | None = None  # the last error it said: why a failed turn failed

    # -- input --------------------------------------------------------------------------------

    def observe(self, stream: LogStream, pieces: list[Piece]) -> None:
        """The log pipeline's lines of this process (redacted); only stdout is normalised."""
        if stream is not LogStream.stdout or self._closed:
            return
        entries: list[Entry] = []
        for piece in pieces:
            texts = piece.data.decode("utf-8", "replace").split("\n")[:-1]
            for index, text in enumerate(texts):
                if piece.continued and index == len(texts) - 1:
                    if len(self._partial) < MAX_PARSED_CHARS:
                        self._partial += text
                    continue
                line, self._partial = self._partial + text, ""
                entries += self._feed(line)
        self.add(entries)

    def _feed(self, line: str) -> list[Entry]:
        if len(line) >= MAX_PARSED_CHARS:
            return [raw(line[:2000] + " …")]
        try:
            return self._normaliser.feed(line)
        except Exception:  # a normaliser bug must not lose the line or stop the agent
            log.exception("normaliser of process %s failed on a line", self.process_id)
            return [raw(line)]

    def add(self, entries: Iterable[Entry]) -> None:
        """Number `entries` and queue them for the store (then the readers)."""
        now = datetime.now(UTC)
        for entry in entries:
            numbered = AgentEntry(self.process_id, self._next_seq, entry.kind, entry.payload, now)
            self._next_seq += 1
            self._queue.append(numbered)
            self._note(numbered)
        if self._queue and self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(
                self._write(), name=f"paddock-entries-{self.process_id}"
            )

    def _note(self, entry: AgentEntry) -> None:
        if entry.kind is EntryKind.session and entry.payload.get("session_id"):
            self.session_id = str(entry.payload["session_id"])
        elif entry.kind is EntryKind.assistant_message and entry.payload.get("text"):
            self.summary = str(entry.payload["text"])
        elif entry.kind is EntryKind.error and str(entry.payload.get("message") or "").strip():
            self.last_error = str(entry.payload["message"])

    async def _write(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await self._persist(batch)
                except Exception:
                    log.exception(
                        "entries %d-%d of process %s could not be stored",
                        batch[0].seq,
                        batch[-1].seq,
                        self.process_id,
                    )
                for entry in batch:
                    self._topic.publish(entry)
        finally:
            self._writer = None

    # -- readers ------------------------------------------------------------------------------

    def subscribe(self) -> tuple[Subscription[AgentEntry | None], bool]:
        """A live subscription, and whether the sink had already closed."""
        return self._topic.subscribe(), self._closed and self._writer is None

    # -- end ----------------------------------------------------------------------------------

    async def close(self) -> None:
        """The process ended: flush the normaliser, store everything, tell readers (None)."""
        if self._closed:
            return
        if self._partial:
            line, self._partial = self._partial, ""
            self.add(self._feed(line))
        try:
            self.add(self._normaliser.finish())
        except Exception:
            log.exception("normaliser of process %s failed at the end", self.process_id)
        self._closed = True
        while self._writer is not None:
            await asyncio.shield(self._writer)
        self._topic.publish(None)


EntryHub = ByProcess[EntrySink]
