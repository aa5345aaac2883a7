"""the builder face: apps, their brief versions, builds, versions and the timeline

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _id(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=32), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "apps",
        _id("id"),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("idea", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        _id("project_id"),
        _id("task_id", True),
        _id("attempt_id", True),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=True),
        sa.Column("agent", sa.JSON(), nullable=False),
        sa.Column("tag_prefix", sa.String(length=80), nullable=False),
        sa.Column("planner", sa.String(length=20), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_apps_project_id", "apps", ["project_id"])
    op.create_table(
        "app_briefs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _id("app_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=20), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_id", "version", name="uq_app_briefs_version"),
    )
    op.create_table(
        "builds",
        _id("id"),
        _id("app_id"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("start_stage", sa.String(length=12), nullable=False),
        sa.Column("failed_stage", sa.String(length=12), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("debug_id", sa.String(length=32), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("stage_times", sa.JSON(), nullable=False),
        sa.Column("base_commit", sa.String(length=64), nullable=True),
        sa.Column("version", sa.String(length=20), nullable=True),
        _id("preview_id", True),
        _id("screenshot_id", True),
        sa.Column("summary", sa.JSON(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("started_at", True),
        _at("ended_at", True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_id", "number", name="uq_builds_app_number"),
    )
    op.create_index("ix_builds_status", "builds", ["status"])
    op.create_index("ix_builds_status_created", "builds", ["status", "created_at"])
    op.create_table(
        "app_versions",
        _id("id"),
        _id("app_id"),
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=False),
        _id("build_id", True),
        sa.Column("rolled_back_to", sa.String(length=20), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        _id("screenshot_id", True),
        _at("created_at"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["build_id"], ["builds.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_id", "name", name="uq_app_versions_name"),
    )
    op.create_table(
        "app_timeline",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _id("app_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _id("build_id", True),
        sa.Column("data", sa.JSON(), nullable=False),
        _at("at"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_id", "seq", name="uq_app_timeline_seq"),
    )


def downgrade() -> None:
    op.drop_table("app_timeline")
    op.drop_table("app_versions")
    op.drop_index("ix_builds_status_created", table_name="builds")
    op.drop_index("ix_builds_status", table_name="builds")
    op.drop_table("builds")
    op.drop_table("app_briefs")
    op.drop_index("ix_apps_project_id", table_name="apps")
    op.drop_table("apps")
