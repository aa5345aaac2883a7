"""sandboxes: per-project and per-attempt sandbox choice, provider and limit hit per process,
resource samples

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows get "{}" (no choice: the server's defaults); new rows get it from the app.
    for table in ("projects", "attempts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("sandbox", sa.JSON(), server_default="{}", nullable=False))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("sandbox", server_default=None)
    with op.batch_alter_table("processes") as batch:
        batch.add_column(
            sa.Column("provider", sa.String(length=20), server_default="none", nullable=False)
        )
        batch.add_column(sa.Column("failure", sa.String(length=20), nullable=True))
    op.create_table(
        "resource_samples",
        sa.Column("process_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cpu_percent", sa.Float(), nullable=False),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=False),
        sa.Column("peak_bytes", sa.BigInteger(), nullable=False),
        sa.Column("pids", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["processes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("process_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("resource_samples")
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("failure")
        batch.drop_column("provider")
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("sandbox")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("sandbox")
