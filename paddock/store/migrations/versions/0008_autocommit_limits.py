"""auto-commit limits: the files a turn's commit left out; a worktree's measured disk use

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processes") as batch:
        batch.add_column(sa.Column("left_out", sa.JSON(), nullable=False, server_default="[]"))
    # The default only filled the existing rows: new rows get theirs from the application.
    with op.batch_alter_table("processes") as batch:
        batch.alter_column("left_out", server_default=None)
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("worktree_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("worktree_bytes")
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("left_out")
