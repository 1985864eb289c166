"""transform jobs

Revision ID: d5e1f0a7c3b2
Revises: a04e4542976d
Create Date: 2026-11-28 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lakeworks.db.engine


revision: str = "d5e1f0a7c3b2"
down_revision: str | None = "a04e4542976d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transform_jobs",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("arn", sa.String(length=256), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=True),
        sa.Column("upload_failure", sa.Text(), nullable=True),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("creation_time", lakeworks.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_transform_jobs")),
    )
    with op.batch_alter_table("transform_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transform_jobs_creation_time"), ["creation_time"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transform_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transform_jobs_creation_time"))

    op.drop_table("transform_jobs")
