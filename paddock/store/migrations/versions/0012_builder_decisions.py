"""the builder's decisions: an app can be parked, decision gates, change requests

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def _id(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=32), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(_at("parked_at", True))
    op.create_table(
        "app_gates",
        _id("id"),
        _id("app_id"),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        _at("created_at"),
        _at("resolved_at", True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_app_gates_pending",
        "app_gates",
        ["app_id"],
        unique=True,
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.create_table(
        "app_changes",
        _id("id"),
        _id("app_id"),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("clarified", sa.Text(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("new_capability", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("against_non_goals", sa.JSON(), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=40), nullable=False),
        sa.Column("tier_limit", sa.Integer(), nullable=True),
        sa.Column("alignment_score", sa.Integer(), nullable=True),
        sa.Column("model_score", sa.Integer(), nullable=True),
        sa.Column("model_reason", sa.Text(), nullable=False),
        _id("build_id", True),
        _at("created_at"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["build_id"], ["builds.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_app_changes_app_id", "app_changes", ["app_id"])


def downgrade() -> None:
    op.drop_index("ix_app_changes_app_id", table_name="app_changes")
    op.drop_table("app_changes")
    op.drop_index("uq_app_gates_pending", table_name="app_gates")
    op.drop_table("app_gates")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("parked_at")
