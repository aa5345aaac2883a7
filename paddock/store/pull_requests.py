"""Pull requests of attempts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from paddock.domain.errors import NotFound
from paddock.domain.names import new_id
from paddock.domain.pull_request import Forge, PullRequest, PullRequestStatus
from paddock.store.tables.attempts import PullRequestRow


def to_pull_request(row: PullRequestRow) -> PullRequest:
    return PullRequest(
        id=row.id,
        attempt_id=row.attempt_id,
        forge=Forge(row.forge),
        repo=row.repo,
        number=row.number,
        url=row.url,
        status=PullRequestStatus(row.status),
        via=row.via,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def record(
    session: Session,
    *,
    attempt_id: str,
    forge: Forge,
    repo: str,
    number: int,
    url: str,
    via: str,
    status: PullRequestStatus = PullRequestStatus.open,
) -> PullRequest:
    row = PullRequestRow(
        id=new_id(),
        attempt_id=attempt_id,
        forge=forge.value,
        repo=repo,
        number=number,
        url=url,
        status=status.value,
        via=via,
    )
    session.add(row)
    session.flush()
    return to_pull_request(row)


def get(session: Session, pull_request_id: str) -> PullRequest:
    row = session.get(PullRequestRow, pull_request_id)
    if row is None:
        raise NotFound(f"no pull request {pull_request_id}", code="pull_request_not_found")
    return to_pull_request(row)


def list_for_attempt(session: Session, attempt_id: str) -> list[PullRequest]:
    query = (
        select(PullRequestRow)
        .where(PullRequestRow.attempt_id == attempt_id)
        .order_by(PullRequestRow.created_at)
    )
    return [to_pull_request(r) for r in session.scalars(query)]


def list_open(session: Session) -> list[PullRequest]:
    query = select(PullRequestRow).where(PullRequestRow.status == PullRequestStatus.open.value)
    return [to_pull_request(r) for r in session.scalars(query)]


def set_status(session: Session, pull_request_id: str, status: PullRequestStatus) -> PullRequest:
    row = session.get(PullRequestRow, pull_request_id)
    if row is None:
        raise NotFound(f"no pull request {pull_request_id}", code="pull_request_not_found")
    row.status = status.value
    session.flush()
    return to_pull_request(row)
