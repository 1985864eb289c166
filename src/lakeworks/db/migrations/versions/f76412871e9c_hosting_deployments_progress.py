"""hosting deployments progress

Revision ID: f76412871e9c
Revises: e2a7cdae8b39
Create Date: 2026-11-28 15:22:41.276831
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lakeworks.db.engine

revision: str = "f76412871e9c"
down_revision: str | None = "e2a7cdae8b39"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hosting_deployments",
        sa.Column("endpoint_name", sa.String(length=63), nullable=False),
        sa.Column("config_name", sa.String(length=63), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("started", lakeworks.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.Column("old_fleet", sa.String(length=96), nullable=True),
        sa.Column("new_fleet", sa.String(length=96), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("fraction", sa.Float(), nullable=False),
        sa.Column("step_started", lakeworks.db.engine.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retire_at", lakeworks.db.engine.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("endpoint_name", name=op.f("pk_hosting_deployments")),
    )


def downgrade() -> None:
    op.drop_table("hosting_deployments")
