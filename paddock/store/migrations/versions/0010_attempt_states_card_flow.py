"""attempt states a person can read; the card flow and preview auto-start settings; step roles

Attempts: `idle` is gone. An idle attempt with a merge record is `merged`; one that was stopped
(its error said "... stopped") is `stopped`, without that error; any other is
`awaiting_review`. Processes: `killed` is `stopped`, and loses the exit it was given as an
error ("exited with code 0", "killed by signal 15"): a stop is not a failure. Projects get
`card_flow` (on) and `auto_preview` (off); workflow steps a `role`, set on the steps named as
the defaults are (In progress, In review, Done); task moves `refused`.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The default steps' names and the role each now carries.
ROLES = {"in progress": "in_progress", "in review": "review", "done": "done"}
# Booleans' defaults as plain literals ('1' and '0' are booleans to PostgreSQL too): an
# expression such as sa.true() makes Alembic's SQLite batch mode copy the table, and dropping
# the old `projects` would cascade to every task and attempt.
TRUE, FALSE = "1", "0"


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("card_flow", sa.Boolean(), server_default=TRUE, nullable=False)
        )
        batch.add_column(
            sa.Column("auto_preview", sa.Boolean(), server_default=FALSE, nullable=False)
        )
    with op.batch_alter_table("workflow_steps") as batch:
        batch.add_column(sa.Column("role", sa.String(length=20), nullable=True))
    with op.batch_alter_table("task_moves") as batch:
        batch.add_column(
            sa.Column("refused", sa.Boolean(), server_default=FALSE, nullable=False)
        )
    steps = sa.table("workflow_steps", sa.column("name", sa.String), sa.column("role", sa.String))
    for name, role in ROLES.items():
        op.execute(steps.update().where(sa.func.lower(steps.c.name) == name).values(role=role))

    attempts = sa.table(
        "attempts",
        sa.column("status", sa.String),
        sa.column("error", sa.Text),
        sa.column("debug_id", sa.String),
        sa.column("merge_commit", sa.String),
    )
    idle = attempts.c.status == "idle"
    op.execute(
        attempts.update()
        .where(idle, attempts.c.merge_commit.is_not(None))
        .values(status="merged", error=None, debug_id=None)
    )
    op.execute(
        attempts.update()
        .where(idle, attempts.c.error.like("%stopped"))
        .values(status="stopped", error=None, debug_id=None)
    )
    op.execute(attempts.update().where(idle).values(status="awaiting_review"))

    processes = sa.table("processes", sa.column("status", sa.String), sa.column("error", sa.Text))
    killed = processes.c.status == "killed"
    exit_only = sa.or_(
        processes.c.error.like("exited with code %"), processes.c.error.like("killed by signal %")
    )
    op.execute(processes.update().where(killed, exit_only).values(error=None))
    op.execute(processes.update().where(killed).values(status="stopped"))


def downgrade() -> None:
    processes = sa.table("processes", sa.column("status", sa.String))
    op.execute(processes.update().where(processes.c.status == "stopped").values(status="killed"))
    attempts = sa.table("attempts", sa.column("status", sa.String))
    settled = attempts.c.status.in_(["awaiting_review", "stopped", "merged"])
    op.execute(attempts.update().where(settled).values(status="idle"))
    with op.batch_alter_table("task_moves") as batch:
        batch.drop_column("refused")
    with op.batch_alter_table("workflow_steps") as batch:
        batch.drop_column("role")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("auto_preview")
        batch.drop_column("card_flow")
