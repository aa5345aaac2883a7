"""an attempt's runner: the server that runs it, when servers share the database

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("runner_id", sa.String(32), nullable=True))
        batch.create_index("ix_attempts_runner_id", ["runner_id"])


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_index("ix_attempts_runner_id")
        batch.drop_column("runner_id")
