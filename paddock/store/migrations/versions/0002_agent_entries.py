"""agent entries, agent turn records on processes, auto-commit per project

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_entries",
        sa.Column("process_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("process_id", "seq"),
    )
    with op.batch_alter_table("processes") as batch:
        batch.add_column(sa.Column("commit_before", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("commit_after", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("agent_session", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("dropped", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("auto_commit", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("auto_commit")
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("dropped")
        batch.drop_column("agent_session")
        batch.drop_column("commit_after")
        batch.drop_column("commit_before")
    op.drop_table("agent_entries")
