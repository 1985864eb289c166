"""Triggers: Glue's (SCHEDULED, ON_DEMAND, CONDITIONAL) and native ones (EVENT: an object
created in the lake; schedules as ``rate(...)`` or ``cron(...)``), and the record of every firing.

Field names are Glue's, snake_cased; requests also accept Glue's PascalCase names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal

__all__ = [
    "RUN_STATES",
    "EventSource",
    "TriggerAction",
    "TriggerCondition",
    "TriggerCreate",
    "TriggerInfo",
    "TriggerPredicate",
    "TriggerRunInfo",
    "TriggerUpdate",
]

#: Final states of a Glue job run a condition can wait for.
RUN_STATES = ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR")
TRIGGER_NAME = r"^[A-Za-z0-9_.-]{1,255}$"
TriggerType = Literal["SCHEDULED", "ON_DEMAND", "CONDITIONAL", "EVENT"]


class _Request(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore")


class TriggerCondition(_Request):
    """The trigger waits for job ``job_name``'s latest run to end in ``state``."""

    logical_operator: Literal["EQUALS"] = "EQUALS"
    job_name: str = Field(min_length=1, max_length=255)
    state: Literal["SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR"]


class TriggerPredicate(_Request):
    """``AND``: every condition holds; ``ANY``: one does."""

    logical: Literal["AND", "ANY"] = "AND"
    conditions: list[TriggerCondition] = Field(min_length=1, max_length=100)


class TriggerAction(_Request):
    """What a firing starts: a Glue job run (with ``arguments``), a crawler, or (natively) a
    function invocation. ``{bucket}``, ``{key}``, ``{s3_uri}``, ``{size}``, ``{etag}``,
    ``{event_time}``, ``{fire_time}`` and ``{trigger_name}`` in argument values are replaced
    from the event that fired the trigger."""

    job_name: str | None = Field(None, min_length=1, max_length=255)
    arguments: dict[str, str] = Field(default_factory=dict)
    crawler_name: str | None = Field(None, min_length=1, max_length=255)
    function_name: str | None = Field(None, min_length=1, max_length=256)


class EventSource(_Request):
    """Objects created (or removed) in ``bucket`` under ``prefix`` ending in ``suffix``."""

    bucket: str = Field(min_length=3, max_length=63)
    prefix: str = Field("", max_length=1024)
    suffix: str = Field("", max_length=1024)
    events: list[str] = Field(default_factory=lambda: ["s3:ObjectCreated:*"], min_length=1)


class TriggerCreate(_Request):
    """CreateTrigger (plus the native ``EVENT`` type and ``event_source``)."""

    name: str = Field(pattern=TRIGGER_NAME)
    type: TriggerType
    schedule: str | None = Field(None, max_length=256)
    predicate: TriggerPredicate | None = None
    actions: list[TriggerAction] = Field(min_length=1, max_length=50)
    description: str = Field("", max_length=2048)
    start_on_creation: bool = False
    event_source: EventSource | None = None


class TriggerUpdate(_Request):
    """UpdateTrigger's TriggerUpdate: an omitted field keeps its value."""

    description: str | None = Field(None, max_length=2048)
    schedule: str | None = Field(None, max_length=256)
    predicate: TriggerPredicate | None = None
    actions: list[TriggerAction] | None = Field(None, min_length=1, max_length=50)
    event_source: EventSource | None = None


class TriggerInfo(_Response):
    """A trigger as GetTrigger shows it (``next_fire_time`` and times are Lakeworks')."""

    name: str
    id: str
    type: str
    state: str
    description: str = ""
    schedule: str | None = None
    predicate: TriggerPredicate | None = None
    actions: list[TriggerAction]
    event_source: EventSource | None = None
    next_fire_time: datetime | None = None
    created_on: datetime | None = None
    last_modified_on: datetime | None = None


class TriggerRunInfo(_Response):
    """One firing of a trigger: why, when, what it started, and how each attempt went."""

    trigger_run_id: str
    trigger_name: str
    reason: Literal["SCHEDULE", "EVENT", "CONDITION", "MANUAL"]
    status: Literal["PENDING", "RETRYING", "SUCCEEDED", "FAILED"]
    fired_on: datetime
    completed_on: datetime | None = None
    attempts: int
    max_attempts: int
    started: list[dict[str, Any]] = Field(
        default_factory=list, description="Per action started: its kind, target and run id"
    )
    error_message: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    event: dict[str, Any] | None = None
