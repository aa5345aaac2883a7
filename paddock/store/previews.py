"""Previews and their one-time tickets. A preview's port is unique among previews holding one:
reserving it is the insert (or update) that the unique constraint lets through."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paddock.domain.errors import NotFound
from paddock.domain.names import new_id
from paddock.domain.preview import Preview, PreviewStatus, check_preview_move
from paddock.store.attempts import run_by
from paddock.store.tables.base import utcnow
from paddock.store.tables.previews import PreviewRow, PreviewTicketRow


def to_preview(row: PreviewRow) -> Preview:
    return Preview(
        id=row.id,
        attempt_id=row.attempt_id,
        project_id=row.project_id,
        service=row.service,
        command=row.command,
        host=row.host,
        port=row.port,
        process_id=row.process_id,
        status=PreviewStatus(row.status),
        error=row.error,
        debug_id=row.debug_id,
        notice=row.notice,
        token_hash=row.token_hash,
        last_access_at=row.last_access_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _row(session: Session, preview_id: str) -> PreviewRow:
    row = session.get(PreviewRow, preview_id)
    if row is None:
        raise NotFound(f"no preview {preview_id}", code="preview_not_found")
    return row


def get_preview(session: Session, preview_id: str) -> Preview:
    return to_preview(_row(session, preview_id))


def find_by_host(session: Session, host: str) -> Preview | None:
    row = session.scalar(select(PreviewRow).where(PreviewRow.host == host))
    return None if row is None else to_preview(row)


def find_for_service(session: Session, attempt_id: str, service: str) -> Preview | None:
    query = select(PreviewRow).where(
        PreviewRow.attempt_id == attempt_id, PreviewRow.service == service
    )
    row = session.scalar(query)
    return None if row is None else to_preview(row)


def list_for_attempt(session: Session, attempt_id: str) -> list[Preview]:
    query = (
        select(PreviewRow).where(PreviewRow.attempt_id == attempt_id).order_by(PreviewRow.service)
    )
    return [to_preview(r) for r in session.scalars(query)]


def list_active(session: Session, runner_id: str | None = None) -> list[Preview]:
    """Previews starting or running, of the attempts `runner_id` runs (all: None)."""
    active = [PreviewStatus.starting.value, PreviewStatus.running.value]
    query = select(PreviewRow).where(
        PreviewRow.status.in_(active), run_by(PreviewRow.attempt_id, runner_id)
    )
    return [to_preview(r) for r in session.scalars(query)]


def active_for_attempts(session: Session, attempt_ids: list[str]) -> dict[str, int]:
    """How many active previews each of the attempts has (for board cards)."""
    if not attempt_ids:
        return {}
    active = [PreviewStatus.starting.value, PreviewStatus.running.value]
    query = select(PreviewRow.attempt_id).where(
        PreviewRow.attempt_id.in_(attempt_ids), PreviewRow.status.in_(active)
    )
    counts: dict[str, int] = {}
    for attempt_id in session.scalars(query):
        counts[attempt_id] = counts.get(attempt_id, 0) + 1
    return counts


def prepare(
    session: Session,
    *,
    attempt_id: str,
    project_id: str,
    service: str,
    command: str,
    host: str,
    token_hash: str,
) -> Preview:
    """The attempt's preview of `service`, made `starting` (created the first time)."""
    row = session.scalar(
        select(PreviewRow).where(PreviewRow.attempt_id == attempt_id, PreviewRow.service == service)
    )
    if row is None:
        row = PreviewRow(
            id=new_id(),
            attempt_id=attempt_id,
            project_id=project_id,
            service=service,
            host=host,
            token_hash=token_hash,
        )
        session.add(row)
    else:
        check_preview_move(PreviewStatus(row.status), PreviewStatus.starting)
    row.command = command
    row.status = PreviewStatus.starting
    row.error = row.debug_id = row.notice = None
    session.flush()
    return to_preview(row)


def reserve_port(session: Session, preview_id: str, port: int) -> bool:
    """Hold `port` for the preview; False when another preview holds it."""
    try:
        with session.begin_nested():
            _row(session, preview_id).port = port
    except IntegrityError:
        return False
    return True


def release_port(session: Session, preview_id: str) -> None:
    _row(session, preview_id).port = None
    session.flush()


def taken_ports(session: Session) -> set[int]:
    query = select(PreviewRow.port).where(PreviewRow.port.is_not(None))
    return {port for port in session.scalars(query) if port is not None}


def update_preview(
    session: Session,
    preview_id: str,
    *,
    status: PreviewStatus | None = None,
    process_id: str | None = None,
    error: str | None = None,
    debug_id: str | None = None,
    notice: str | None = None,
) -> Preview:
    """Change what is given. A preview that stops or fails gives its port back."""
    row = _row(session, preview_id)
    if status is not None:
        check_preview_move(PreviewStatus(row.status), status)
        row.status = status
        if not status.active:
            row.port = None
    if process_id is not None:
        row.process_id = process_id
    if error is not None:
        row.error = error
    if debug_id is not None:
        row.debug_id = debug_id
    if notice is not None:
        row.notice = notice
    session.flush()
    return to_preview(row)


def touch(session: Session, preview_ids: list[str], when: datetime) -> None:
    """Record the last proxied request (batched by the proxy)."""
    if preview_ids:
        session.execute(
            update(PreviewRow)
            .where(PreviewRow.id.in_(preview_ids))
            .values(last_access_at=when)
            .execution_options(synchronize_session=False)
        )


def add_ticket(session: Session, preview_id: str, ticket_hash: str, expires_at: datetime) -> None:
    session.add(
        PreviewTicketRow(ticket_hash=ticket_hash, preview_id=preview_id, expires_at=expires_at)
    )


def redeem_ticket(session: Session, ticket_hash: str, preview_id: str) -> bool:
    """Use the ticket once: True only the first time, before it expires, for its preview."""
    now = utcnow()
    done = session.execute(
        update(PreviewTicketRow)
        .where(
            PreviewTicketRow.ticket_hash == ticket_hash,
            PreviewTicketRow.preview_id == preview_id,
            PreviewTicketRow.used_at.is_(None),
            PreviewTicketRow.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


def forget_tickets(session: Session, before: datetime) -> None:
    """Drop tickets that expired before `before`."""
    session.execute(delete(PreviewTicketRow).where(PreviewTicketRow.expires_at < before))
