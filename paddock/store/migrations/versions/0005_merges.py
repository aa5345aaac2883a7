"""merges: the merge that landed an attempt on its base branch

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("merge_commit", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("merge_strategy", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("merged_into", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("merged_head", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        for column in ("merged_at", "merged_head", "merged_into", "merge_strategy", "merge_commit"):
            batch.drop_column(column)
