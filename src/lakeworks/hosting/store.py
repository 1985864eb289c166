"""Tables of the hosting domain and their queries; nothing outside this module touches them.

``hosting_models`` and ``hosting_endpoint_configs`` hold the specs as given (immutable, as on
SageMaker). ``hosting_endpoints`` holds each endpoint's state machine and per-variant weights
and instance counts. A *fleet* (``hosting_fleets``) is the set of instances serving one endpoint
config for one endpoint; it snapshots the models it serves, so deleting a model or config later
does not disturb a running endpoint, and a restarted server can restart its instances. Each
instance (``hosting_instances``) records the backend handle of its model server process, which
is how a restarted server adopts it.

Endpoint operations run in one server process (the one that hosts the endpoints), serialised per
endpoint by :mod:`lakeworks.hosting.endpoints`; rows are changed in short transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, LargeBinary, String, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base

__all__ = [
    "AsyncInvocationRecord",
    "DeploymentRecord",
    "EndpointConfigRecord",
    "EndpointRecord",
    "FleetRecord",
    "HostedModelRecord",
    "InstanceRecord",
    "async_backlog",
    "delete_fleet",
    "fleets_of",
    "instances_of",
    "list_records",
    "pending_async_invocations",
    "requeue_async_invocations",
]


class HostedModelRecord(Base):
    """A model: containers, execution mode, tags (the ``ModelCreate`` as given)."""

    __tablename__ = "hosting_models"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    spec: Mapped[dict[str, Any]]
    creation_time: Mapped[datetime] = mapped_column(index=True)


class EndpointConfigRecord(Base):
    """An endpoint config (the ``EndpointConfigCreate`` as given)."""

    __tablename__ = "hosting_endpoint_configs"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    spec: Mapped[dict[str, Any]]
    creation_time: Mapped[datetime] = mapped_column(index=True)


class EndpointRecord(Base):
    """An endpoint: its status, the config it serves, its variants' weights and counts."""

    __tablename__ = "hosting_endpoints"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    config_name: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(32), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    #: One :class:`~lakeworks.hosting.variants.VariantState` per variant (shadows included).
    variants: Mapped[list[Any]]
    #: The fleet serving traffic now (None before the first one is up).
    active_fleet: Mapped[str | None] = mapped_column(String(96))
    #: The config an update moves to, and its variants, while Updating.
    pending_config: Mapped[str | None] = mapped_column(String(63))
    pending_variants: Mapped[list[Any] | None]
    #: The active config's DataCaptureConfig / AsyncInferenceConfig (snapshots).
    data_capture: Mapped[dict[str, Any] | None]
    async_inference: Mapped[dict[str, Any] | None]
    deployment_config: Mapped[dict[str, Any] | None]
    tags: Mapped[dict[str, Any]]
    #: The creator and its scopes: data capture writes to the lake on its behalf.
    principal: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]]
    creation_time: Mapped[datetime] = mapped_column(index=True)
    last_modified_time: Mapped[datetime]


class FleetRecord(Base):
    """The instances serving one endpoint config of one endpoint, and what they serve."""

    __tablename__ = "hosting_fleets"

    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    endpoint_name: Mapped[str] = mapped_column(String(63), index=True)
    config_name: Mapped[str] = mapped_column(String(63))
    #: ``Starting`` → ``Active`` → ``Retired`` (or ``Failed``).
    status: Mapped[str] = mapped_column(String(16))
    #: Variant name → plan (model snapshot, instance count, shadow, timeouts).
    plan: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class InstanceRecord(Base):
    """One model server process of a fleet."""

    __tablename__ = "hosting_instances"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    fleet_id: Mapped[str] = mapped_column(String(96), index=True)
    endpoint_name: Mapped[str] = mapped_column(String(63), index=True)
    variant_name: Mapped[str] = mapped_column(String(63))
    ordinal: Mapped[int] = mapped_column(Integer)
    backend: Mapped[str | None] = mapped_column(String(32))
    handle: Mapped[dict[str, Any] | None]
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None]


class DeploymentRecord(Base):
    """A blue/green deployment in progress, so a restarted server resumes it (:mod:`.rollout`).

    One row per endpoint, from the start of an update until its old fleet is retired or the
    update rolled back.
    """

    __tablename__ = "hosting_deployments"

    endpoint_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    config_name: Mapped[str] = mapped_column(String(63))
    #: ``Creating`` → ``Baking`` → ``Retiring`` (done), or ``RollingBack``.
    phase: Mapped[str] = mapped_column(String(16))
    #: When the update began (MaximumExecutionTimeoutInSeconds counts from it).
    started: Mapped[datetime]
    old_fleet: Mapped[str | None] = mapped_column(String(96))
    new_fleet: Mapped[str | None] = mapped_column(String(96))
    #: The traffic step baking now (0-based), the new fleet's share, when its bake began.
    step: Mapped[int] = mapped_column(Integer, default=0)
    fraction: Mapped[float] = mapped_column(Float, default=0.0)
    step_started: Mapped[datetime | None]
    #: When the old fleet stops (TerminationWaitInSeconds after the last bake), while Retiring.
    retire_at: Mapped[datetime | None]
    #: Why a RollingBack deployment rolls back.
    reason: Mapped[str | None] = mapped_column(Text)


class AsyncInvocationRecord(Base):
    """One InvokeEndpointAsync request: the durable queue of :mod:`.async_inference`."""

    __tablename__ = "hosting_async_invocations"

    #: The uuid that names the output object (``<S3OutputPath>/<id>.out``).
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    endpoint_name: Mapped[str] = mapped_column(String(63), index=True)
    inference_id: Mapped[str] = mapped_column(String(64))
    #: ``Pending`` → ``InProgress`` → ``Completed`` or ``Failed`` (a restart requeues InProgress).
    status: Mapped[str] = mapped_column(String(16), index=True)
    input_location: Mapped[str | None] = mapped_column(String(1024))
    #: An inline request body (InvokeEndpointAsync's ``Body``, at most 128,000 bytes).
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_type: Mapped[str | None] = mapped_column(String(1024))
    accept: Mapped[str | None] = mapped_column(String(1024))
    custom_attributes: Mapped[str | None] = mapped_column(String(1024))
    output_location: Mapped[str] = mapped_column(String(1100))
    failure_location: Mapped[str] = mapped_column(String(1100))
    invocation_timeout: Mapped[int] = mapped_column(Integer)
    #: The caller: the input is read on its behalf.
    principal: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    received_time: Mapped[datetime] = mapped_column(index=True)
    expires_time: Mapped[datetime]
    completed_time: Mapped[datetime | None]


def pending_async_invocations(session: Session, limit: int) -> Sequence[AsyncInvocationRecord]:
    """Queued async invocations, oldest first."""
    return session.scalars(
        select(AsyncInvocationRecord)
        .where(AsyncInvocationRecord.status == "Pending")
        .order_by(AsyncInvocationRecord.received_time, AsyncInvocationRecord.id)
        .limit(limit)
    ).all()


def async_backlog(session: Session, endpoint: str) -> int:
    """Async invocations of ``endpoint`` queued or in progress (ApproximateBacklogSize)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(AsyncInvocationRecord)
            .where(
                AsyncInvocationRecord.endpoint_name == endpoint,
                AsyncInvocationRecord.status.in_(("Pending", "InProgress")),
            )
        )
        or 0
    )


def requeue_async_invocations(session: Session) -> int:
    """Put invocations an earlier server process was running back in the queue; how many."""
    result = session.execute(
        update(AsyncInvocationRecord)
        .where(AsyncInvocationRecord.status == "InProgress")
        .values(status="Pending")
    )
    return int(getattr(result, "rowcount", 0) or 0)


class AlarmRecord(Base):
    """A metric alarm over endpoint metrics (the ``MetricAlarmPut`` as given) and its state."""

    __tablename__ = "hosting_alarms"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    arn: Mapped[str] = mapped_column(String(512))
    spec: Mapped[dict[str, Any]]
    state_value: Mapped[str] = mapped_column(String(32))
    state_reason: Mapped[str] = mapped_column(Text)
    state_updated: Mapped[datetime]
    configuration_updated: Mapped[datetime]


def list_records(session: Session, model: type[Any], order: Any) -> Sequence[Any]:
    """Every row of ``model`` ordered by ``order``."""
    return session.scalars(select(model).order_by(order)).all()


def fleets_of(session: Session, endpoint: str) -> Sequence[FleetRecord]:
    """The fleets of an endpoint, oldest first."""
    return session.scalars(
        select(FleetRecord)
        .where(FleetRecord.endpoint_name == endpoint)
        .order_by(FleetRecord.created_at, FleetRecord.id)
    ).all()


def instances_of(session: Session, fleet_id: str) -> Sequence[InstanceRecord]:
    """The instances of a fleet, by variant and ordinal."""
    return session.scalars(
        select(InstanceRecord)
        .where(InstanceRecord.fleet_id == fleet_id)
        .order_by(InstanceRecord.variant_name, InstanceRecord.ordinal)
    ).all()


def delete_fleet(session: Session, fleet_id: str) -> None:
    """Forget a fleet and its instances."""
    session.execute(delete(InstanceRecord).where(InstanceRecord.fleet_id == fleet_id))
    session.execute(delete(FleetRecord).where(FleetRecord.id == fleet_id))
