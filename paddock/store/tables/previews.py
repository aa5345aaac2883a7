"""A preview's tables: the dev service behind the proxy and the tickets of its Open links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paddock.store.tables.base import ID, Base, utcnow


class PreviewRow(Base):
    """A dev service of an attempt behind the proxy (domain/preview.py)."""

    __tablename__ = "previews"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(20))
    command: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(63), unique=True)
    # Held while starting or running (unique: the reservation), released (NULL) once stopped.
    port: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    # The dev server's current process (named before its row exists: no foreign key).
    process_id: Mapped[str | None] = mapped_column(ID, default=None)
    status: Mapped[str] = mapped_column(String(20), index=True)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    debug_id: Mapped[str | None] = mapped_column(String(32), default=None)
    notice: Mapped[str | None] = mapped_column(Text, default=None)
    token_hash: Mapped[str] = mapped_column(String(64))
    last_access_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("attempt_id", "service", name="uq_previews_service"),)


class PreviewTicketRow(Base):
    """A one-time ticket in a preview's Open link, stored hashed; redeemed for a cookie."""

    __tablename__ = "preview_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    preview_id: Mapped[str] = mapped_column(
        ForeignKey("previews.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
