"""A process's log while it runs: the live sink (its lines redacted, followed by its observers,
its agent entries beside it) stored as it comes, and closed with the process's final record."""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Process
from paddock.domain.entries import AgentEntry
from paddock.domain.events import EventType
from paddock.domain.logs import LogBatch
from paddock.domain.process_end import with_agent_reason
from paddock.domain.states import ProcessStatus
from paddock.runtime.entrypipe import EntrySink
from paddock.runtime.logpipe import LogSink
from paddock.services import counters
from paddock.services.context import Context, log
from paddock.services.processes.process_request import ProcessObservers
from paddock.store import entries as entry_store
from paddock.store import processes as store


def open_log(
    ctx: Context, process_id: str, secrets: list[str], observers: ProcessObservers
) -> LogSink:
    """The process's log, live from now on, with its observers (and its agent entries)."""
    settings = ctx.settings
    sink = LogSink(
        process_id,
        partial(_persist_log, ctx),
        secrets=secrets,
        max_line_bytes=settings.processes.max_line_bytes,
        flush_seconds=settings.processes.log_flush_seconds,
        flush_bytes=settings.processes.log_flush_bytes,
    )
    ctx.logs.add(sink)
    if observers.lines is not None:
        sink.observe(observers.lines)
    if observers.normaliser is not None:
        entries = EntrySink(process_id, observers.normaliser, partial(_persist_entries, ctx))
        if getattr(observers.normaliser, "reads_lines", True):  # domain/entries.Normaliser
            sink.observe(entries.observe)
        entries.add(observers.opening)
        ctx.entries.add(entries)
    return sink


async def close_log(ctx: Context, attempt: Attempt, sink: LogSink) -> Process:
    """Close the log (and the entries) and publish the process again with its final line
    count, agent session and, for a failed agent turn, the agent's own reason in its error
    (the status went out earlier, as soon as the process ended). Its final record."""
    await sink.close()
    entries = ctx.entries.get(sink.process_id)
    session = last_error = None
    if entries is not None:
        await entries.close()
        session, last_error = entries.session_id, entries.last_error

    def close(s: Session) -> Process:
        proc = store.set_line_count(s, sink.process_id, sink.line_count, agent_session=session)
        error = with_agent_reason(proc, last_error)
        return store.set_error(s, proc.id, error) if error and error != proc.error else proc

    proc = await ctx.db.run(close)
    if last_error and proc.status is ProcessStatus.failed and proc.failure is None:
        log.warning("process %s failed: %s [debug_id=%s]", proc.id, proc.error, proc.debug_id)
    ctx.publish(EventType.process_updated, attempt.project_id, proc)
    return proc


async def _persist_log(ctx: Context, batches: list[LogBatch]) -> None:
    await ctx.log_writer.persist(batches)
    counters.LOG_LINES.inc(amount=sum(b.count for b in batches))
    counters.LOG_BYTES.inc(amount=sum(len(b.data) for b in batches))


async def _persist_entries(ctx: Context, batch: list[AgentEntry]) -> None:
    await ctx.db.run(lambda s: entry_store.write_entries(s, batch))
