"""tasks an agent proposes (pending until the user accepts them); an attempt's progress line

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column("proposed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("proposed_by", sa.String(length=32), nullable=True))
        batch.create_index("ix_tasks_proposed_by", ["proposed_by"])
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("progress", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("progress_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("progress_at")
        batch.drop_column("progress")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_proposed_by")
        batch.drop_column("proposed_by")
        batch.drop_column("proposed")
