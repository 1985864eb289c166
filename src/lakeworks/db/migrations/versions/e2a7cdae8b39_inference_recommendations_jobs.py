"""inference recommendations jobs

Revision ID: e2a7cdae8b39
Revises: 62cdaaeb40a3
Create Date: 2026-11-28 14:26:25.411454
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lakeworks.db.engine


revision: str = "e2a7cdae8b39"
down_revision: str | None = "62cdaaeb40a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inference_recommendations_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("arn", sa.String(length=256), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("model_name", sa.String(length=63), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("recommendations", sa.JSON(), nullable=False),
        sa.Column("endpoints", sa.JSON(), nullable=False),
        sa.Column("creation_time", lakeworks.db.engine.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_modified_time", lakeworks.db.engine.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("completion_time", lakeworks.db.engine.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_inference_recommendations_jobs")),
    )
    with op.batch_alter_table("inference_recommendations_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inference_recommendations_jobs_creation_time"),
            ["creation_time"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_inference_recommendations_jobs_model_name"), ["model_name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inference_recommendations_jobs_status"), ["status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inference_recommendations_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inference_recommendations_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_inference_recommendations_jobs_model_name"))
        batch_op.drop_index(batch_op.f("ix_inference_recommendations_jobs_creation_time"))

    op.drop_table("inference_recommendations_jobs")
