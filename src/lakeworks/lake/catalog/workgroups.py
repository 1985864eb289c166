"""Athena workgroups: where results go and how many bytes one query may scan.

The ``primary`` workgroup always exists (it is created on first use, as in a fresh AWS account)
and cannot be deleted. A workgroup that enforces its configuration overrides the output location
a query asks for; a disabled workgroup runs no queries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.names import validate_tags
from lakeworks.lake.catalog import store
from lakeworks.lake.catalog.names import workgroup_name
from lakeworks.lake.catalog.service import check_location
from lakeworks.lake.catalog.store import WorkGroupRecord
from lakeworks.schemas.catalog import (
    ResultConfiguration,
    WorkGroup,
    WorkGroupConfiguration,
    WorkGroupInput,
    WorkGroupSummary,
    WorkGroupUpdate,
)

if TYPE_CHECKING:
    from lakeworks.lake.catalog.service import CatalogService

__all__ = ["PRIMARY", "WorkGroupService"]

PRIMARY = "primary"


def _shape(record: WorkGroupRecord) -> WorkGroup:
    return WorkGroup(
        name=record.name,
        state=record.state,
        configuration=WorkGroupConfiguration.model_validate(record.configuration),
        description=record.description,
        creation_time=record.creation_time,
    )


def _missing(name: str) -> NotFound:
    return NotFound(
        f"WorkGroup {name} is not found.",
        aws_code="InvalidRequestException",
        details={"workgroup": name},
    )


class WorkGroupService:
    """Create, get, list, update and delete workgroups (Athena's *WorkGroup actions).

    Args:
        catalog: The catalog (for its database).
    """

    def __init__(self, catalog: CatalogService) -> None:
        self.db = catalog.db

    def _ensure_primary(self) -> None:
        try:
            with self.db.session() as session:
                if session.get(WorkGroupRecord, PRIMARY) is None:
                    session.add(
                        WorkGroupRecord(
                            name=PRIMARY,
                            state="ENABLED",
                            description=None,
                            configuration=WorkGroupConfiguration(
                                enforce_work_group_configuration=False
                            ).model_dump(mode="json"),
                            creation_time=utcnow(),
                            tags={},
                        )
                    )
        except IntegrityError:
            pass  # made concurrently

    def require(self, name: str) -> WorkGroupRecord:
        """The record of workgroup ``name`` (``primary`` is made on first use).

        Raises:
            NotFound: ``InvalidRequestException``, as Athena answers.
        """
        workgroup_name(name)
        if name == PRIMARY:
            self._ensure_primary()
        with self.db.session() as session:
            record = session.get(WorkGroupRecord, name)
        if record is None:
            raise _missing(name)
        return record

    @staticmethod
    def _check(configuration: WorkGroupConfiguration) -> None:
        result = configuration.result_configuration
        if result is not None:
            check_location(result.output_location, "result")

    def create_work_group(self, ctx: RequestContext, spec: WorkGroupInput) -> WorkGroup:
        """Create a workgroup.

        Raises:
            ValidationError: Bad name, location or tags (``InvalidRequestException``).
            AlreadyExists: The name is taken (``InvalidRequestException``, as Athena answers).
        """
        ctx.require("write")
        workgroup_name(spec.name)
        self._check(spec.configuration)
        validate_tags(spec.tags)
        self._ensure_primary()
        record = WorkGroupRecord(
            name=spec.name,
            state="ENABLED",
            description=spec.description,
            configuration=spec.configuration.model_dump(mode="json"),
            creation_time=utcnow(),
            tags=dict(spec.tags),
        )
        exists = AlreadyExists(
            f"WorkGroup {spec.name} is already created", aws_code="InvalidRequestException"
        )
        try:
            with self.db.session() as session:
                if session.get(WorkGroupRecord, spec.name) is not None:
                    raise exists
                session.add(record)
        except IntegrityError:
            raise exists from None
        return _shape(record)

    def get_work_group(self, ctx: RequestContext, name: str) -> WorkGroup:
        """A workgroup.

        Raises:
            NotFound: ``InvalidRequestException``.
        """
        ctx.require("read")
        return _shape(self.require(name))

    def list_work_groups(self, ctx: RequestContext) -> list[WorkGroupSummary]:
        """Every workgroup, by name."""
        ctx.require("read")
        self._ensure_primary()
        with self.db.session() as session:
            records = store.list_workgroups(session)
        return [
            WorkGroupSummary(
                name=r.name,
                state=r.state,
                description=r.description,
                creation_time=r.creation_time,
            )
            for r in records
        ]

    def update_work_group(
        self, ctx: RequestContext, name: str, update: WorkGroupUpdate
    ) -> WorkGroup:
        """Change a workgroup's description, state or configuration.

        Raises:
            NotFound: ``InvalidRequestException``.
            ValidationError: A bad output location.
        """
        ctx.require("write")
        self.require(name)
        with self.db.session() as session:
            record = session.get(WorkGroupRecord, name)
            if record is None:
                raise _missing(name)
            config = WorkGroupConfiguration.model_validate(record.configuration)
            if "description" in update.model_fields_set:
                record.description = update.description
            if update.state is not None:
                record.state = update.state
            changes = update.configuration_updates
            if changes is not None:
                if changes.enforce_work_group_configuration is not None:
                    config.enforce_work_group_configuration = (
                        changes.enforce_work_group_configuration
                    )
                if changes.publish_cloud_watch_metrics_enabled is not None:
                    config.publish_cloud_watch_metrics_enabled = (
                        changes.publish_cloud_watch_metrics_enabled
                    )
                if changes.requester_pays_enabled is not None:
                    config.requester_pays_enabled = changes.requester_pays_enabled
                if changes.remove_bytes_scanned_cutoff_per_query:
                    config.bytes_scanned_cutoff_per_query = None
                elif changes.bytes_scanned_cutoff_per_query is not None:
                    config.bytes_scanned_cutoff_per_query = changes.bytes_scanned_cutoff_per_query
                result = changes.result_configuration_updates
                if result is not None:
                    if result.remove_output_location:
                        config.result_configuration = None
                    elif result.output_location is not None:
                        check_location(result.output_location, "result")
                        config.result_configuration = ResultConfiguration(
                            output_location=result.output_location
                        )
            record.configuration = config.model_dump(mode="json")
        return _shape(record)

    def delete_work_group(self, ctx: RequestContext, name: str) -> None:
        """Delete a workgroup (its query history stays).

        Raises:
            NotFound: ``InvalidRequestException``.
            ValidationError: ``primary`` cannot be deleted.
        """
        ctx.require("write")
        if name == PRIMARY:
            raise ValidationError(
                "The primary workgroup cannot be deleted", aws_code="InvalidRequestException"
            )
        self.require(name)
        with self.db.session() as session:
            record = session.get(WorkGroupRecord, name)
            if record is not None:
                session.delete(record)
