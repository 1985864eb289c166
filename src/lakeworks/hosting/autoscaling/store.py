"""Tables of autoscaling; nothing outside this package touches them.

``autoscaling_targets`` holds each registered scalable target (one endpoint variant's instance
count and its range), ``autoscaling_policies`` the policies of a target (the request as given),
``autoscaling_activities`` every scaling the controller started and how it ended. Targets are
keyed by their ``ResourceId`` (``endpoint/<name>/variant/<variant>``): Lakeworks scales one
dimension of one service namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base

__all__ = [
    "ActivityRecord",
    "PolicyRecord",
    "TargetRecord",
    "activities_of",
    "delete_target",
    "policies_of",
]


class TargetRecord(Base):
    """A scalable target: an endpoint variant's instance count between min and max."""

    __tablename__ = "autoscaling_targets"

    resource_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    endpoint_name: Mapped[str] = mapped_column(String(63), index=True)
    variant_name: Mapped[str] = mapped_column(String(63))
    arn: Mapped[str] = mapped_column(String(256))
    min_capacity: Mapped[int] = mapped_column(Integer)
    max_capacity: Mapped[int] = mapped_column(Integer)
    role_arn: Mapped[str] = mapped_column(String(1600))
    #: ``SuspendedState`` as given (three booleans).
    suspended: Mapped[dict[str, Any]]
    tags: Mapped[dict[str, Any]]
    #: When the controller last scaled this target out and in.
    last_scale_out: Mapped[datetime | None]
    last_scale_in: Mapped[datetime | None]
    creation_time: Mapped[datetime]


class PolicyRecord(Base):
    """A scaling policy of a target (the ``ScalingPolicyPut`` as given)."""

    __tablename__ = "autoscaling_policies"

    arn: Mapped[str] = mapped_column(String(400), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(256))
    policy_type: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]]
    creation_time: Mapped[datetime]


class ActivityRecord(Base):
    """One scaling activity of a target."""

    __tablename__ = "autoscaling_activities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(Text)
    #: The desired capacity the activity set.
    desired: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    status_message: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[datetime] = mapped_column(index=True)
    end_time: Mapped[datetime | None]


def policies_of(session: Session, resource_id: str | None = None) -> Sequence[PolicyRecord]:
    """The policies of one target (or of all), oldest first."""
    query = select(PolicyRecord).order_by(PolicyRecord.creation_time, PolicyRecord.name)
    if resource_id is not None:
        query = query.where(PolicyRecord.resource_id == resource_id)
    return session.scalars(query).all()


def activities_of(session: Session, resource_id: str | None = None) -> Sequence[ActivityRecord]:
    """The activities of one target (or of all), newest first."""
    query = select(ActivityRecord).order_by(ActivityRecord.start_time.desc(), ActivityRecord.id)
    if resource_id is not None:
        query = query.where(ActivityRecord.resource_id == resource_id)
    return session.scalars(query).all()


def delete_target(session: Session, resource_id: str) -> None:
    """Forget a target and its policies (its activities stay, as on AWS)."""
    session.execute(delete(PolicyRecord).where(PolicyRecord.resource_id == resource_id))
    session.execute(delete(TargetRecord).where(TargetRecord.resource_id == resource_id))
