"""previews: dev services of attempts behind the proxy, their one-time tickets; a project's
services and preview database

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("services", sa.JSON(), server_default="{}", nullable=False))
        batch.add_column(
            sa.Column("database", sa.String(length=20), server_default="none", nullable=False)
        )
    with op.batch_alter_table("projects") as batch:
        batch.alter_column("services", server_default=None)
    op.create_table(
        "previews",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("attempt_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("host", sa.String(length=63), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("process_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("debug_id", sa.String(length=32), nullable=True),
        sa.Column("notice", sa.Text(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("last_access_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("host"),
        sa.UniqueConstraint("port"),
        sa.UniqueConstraint("attempt_id", "service", name="uq_previews_service"),
    )
    op.create_index("ix_previews_status", "previews", ["status"])
    op.create_table(
        "preview_tickets",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("preview_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["preview_id"], ["previews.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_hash"),
    )
    op.create_index("ix_preview_tickets_preview_id", "preview_tickets", ["preview_id"])


def downgrade() -> None:
    op.drop_table("preview_tickets")
    op.drop_table("previews")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("database")
        batch.drop_column("services")
