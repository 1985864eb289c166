"""hosting alarms

Revision ID: 044805a40220
Revises: 0e6259142a30
Create Date: 2026-11-28 14:07:42.822302
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lakeworks.db.engine


revision: str = '044805a40220'
down_revision: str | None = '0e6259142a30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hosting_alarms',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('arn', sa.String(length=512), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('state_value', sa.String(length=32), nullable=False),
    sa.Column('state_reason', sa.Text(), nullable=False),
    sa.Column('state_updated', lakeworks.db.engine.UTCDateTime(timezone=True), nullable=False),
    sa.Column('configuration_updated', lakeworks.db.engine.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_hosting_alarms'))
    )


def downgrade() -> None:
    op.drop_table('hosting_alarms')
