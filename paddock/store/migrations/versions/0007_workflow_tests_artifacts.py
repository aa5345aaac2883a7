"""workflow step settings and task moves; test runs and their cases; artifacts

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_steps") as batch:
        batch.add_column(sa.Column("agent", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("prompt_template", sa.Text(), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("automation", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("gate", sa.JSON(), nullable=False, server_default="[]"))
    # The defaults only filled the existing rows: new rows get theirs from the application.
    with op.batch_alter_table("workflow_steps") as batch:
        batch.alter_column("prompt_template", server_default=None)
        batch.alter_column("gate", server_default=None)
    with op.batch_alter_table("follow_ups") as batch:
        batch.add_column(sa.Column("agent", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("step_id", sa.String(length=32), nullable=True))
    op.create_table(
        "task_step_prompts",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("step_id", sa.String(length=32), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["step_id"], ["workflow_steps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "step_id"),
    )
    op.create_table(
        "task_moves",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("from_step_id", sa.String(length=32), nullable=True),
        sa.Column("to_step_id", sa.String(length=32), nullable=False),
        sa.Column("attempt_id", sa.String(length=32), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("failing", sa.JSON(), nullable=False),
        sa.Column("automation", sa.String(length=20), nullable=True),
        sa.Column("ran", sa.String(length=32), nullable=True),
        sa.Column("automation_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_moves_task_id", "task_moves", ["task_id"])
    op.create_table(
        "test_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("attempt_id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("process_id", sa.String(length=32), nullable=True),
        sa.Column("commit", sa.String(length=64), nullable=True),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("debug_id", sa.String(length=32), nullable=True),
        sa.Column("preview_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_test_runs_task_id", "test_runs", ["task_id"])
    op.create_index("ix_test_runs_status", "test_runs", ["status"])
    op.create_index(
        "ix_test_runs_attempt_kind", "test_runs", ["attempt_id", "kind", "created_at"]
    )
    op.create_table(
        "test_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("suite", sa.Text(), nullable=False),
        sa.Column("classname", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["test_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_test_cases_run_id", "test_cases", ["run_id"])
    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("attempt_id", sa.String(length=32), nullable=False),
        sa.Column("process_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_artifacts_attempt_id", "artifacts", ["attempt_id"])
    op.create_index("ix_artifacts_process_id", "artifacts", ["process_id"])
    op.create_index("ix_artifacts_created_at", "artifacts", ["created_at"])


def downgrade() -> None:
    op.drop_table("artifacts")
    op.drop_table("test_cases")
    op.drop_table("test_runs")
    op.drop_table("task_moves")
    op.drop_table("task_step_prompts")
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("step_id")
        batch.drop_column("agent")
    with op.batch_alter_table("workflow_steps") as batch:
        batch.drop_column("gate")
        batch.drop_column("automation")
        batch.drop_column("prompt_template")
        batch.drop_column("agent")
