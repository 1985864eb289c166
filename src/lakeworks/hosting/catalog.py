"""Models and endpoint configs: immutable records (create, describe, list, delete).

:class:`HostingCatalog` holds them and the record helpers the endpoint operations share
(insert, get, delete, filter, page). :class:`~lakeworks.hosting.service.HostingService` builds on
it. Not-found and already-exists errors carry SageMaker's wording (``Could not find model
"arn:…"``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy.exc import IntegrityError

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.names import arn, validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting import listing
from lakeworks.hosting.endpoint_configs import all_variants, check_endpoint_config
from lakeworks.hosting.fleet_keeper import ObjectWriter
from lakeworks.hosting.models import check_model, containers_of
from lakeworks.hosting.store import EndpointConfigRecord, HostedModelRecord
from lakeworks.lake.service import parse_s3_uri
from lakeworks.schemas.common import Page
from lakeworks.schemas.hosting import (
    EndpointConfigCreate,
    EndpointConfigInfo,
    EndpointConfigSummary,
    ModelCreate,
    ModelInfo,
    ModelSummary,
    tag_map,
)

__all__ = ["HostingCatalog", "SortOrder"]

SortOrder = Literal["Ascending", "Descending"]
R = TypeVar("R")
S = TypeVar("S")
#: The ARN resource type of a kind whose wording differs from it.
_RESOURCE = {"endpoint configuration": "endpoint-config"}


class HostingCatalog:
    """Models and endpoint configs, and the record helpers of every hosting resource.

    Args:
        settings: The settings tree.
        db: The metadata database.
        lake: Model data must exist in it.
        clock: Current UTC time.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        lake: ObjectWriter,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.db = db
        self.lake = lake
        self.clock = clock

    def _arn(self, kind: str, name: str) -> str:
        return arn(
            "sagemaker",
            f"{kind}/{name.lower()}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    # -- models --------------------------------------------------------------------------------

    def create_model(self, ctx: RequestContext, spec: ModelCreate) -> ModelInfo:
        """Create a model (its artifacts are checked and staged when an endpoint uses it).

        Raises:
            ValidationError: A container the checks refuse, or model data that is not in the lake.
            AlreadyExists: A model of that name exists.
        """
        ctx.require("write")
        check_model(spec)
        validate_tags(tag_map(spec.tags))
        for container in containers_of(spec):
            if container.model_data_url and container.mode == "SingleModel":
                self._require_object(ctx, container.model_data_url)
        record = HostedModelRecord(
            name=spec.model_name,
            arn=self._arn("model", spec.model_name),
            spec=spec.model_dump(mode="json"),
            creation_time=self.clock(),
        )
        self._insert(record, f'Cannot create already existing model "{record.arn}".')
        return _model_info(record)

    def _require_object(self, ctx: RequestContext, uri: str) -> None:
        bucket, key = parse_s3_uri(uri)
        try:
            self.lake.head_object(ctx, bucket, key)
        except NotFound:
            raise ValidationError(
                f"Could not find model data at {uri}: upload model.tar.gz there first"
            ) from None

    def describe_model(self, ctx: RequestContext, name: str) -> ModelInfo:
        """Everything about one model.

        Raises:
            NotFound: No such model.
        """
        ctx.require("read")
        return _model_info(self._get(HostedModelRecord, name, "model"))

    def list_models(
        self,
        ctx: RequestContext,
        *,
        name_contains: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: Literal["Name", "CreationTime"] = "CreationTime",
        sort_order: SortOrder = "Descending",
        max_results: int = 10,
        next_token: str | None = None,
    ) -> Page[ModelSummary]:
        """List models, newest first unless sorted otherwise."""
        ctx.require("read")
        return self._page(
            "models",
            self._filtered(
                HostedModelRecord, name_contains, creation_time_after, creation_time_before
            ),
            lambda r: ModelSummary(
                model_name=r.name, model_arn=r.arn, creation_time=r.creation_time
            ),
            (name_contains, creation_time_after, creation_time_before),
            sort_by,
            sort_order,
            max_results,
            next_token,
        )

    def delete_model(self, ctx: RequestContext, name: str) -> None:
        """Delete a model (endpoints that use it keep serving their snapshot).

        Raises:
            NotFound: No such model.
        """
        ctx.require("write")
        self._delete(HostedModelRecord, name, "model")

    # -- endpoint configs ------------------------------------------------------------------------

    def create_endpoint_config(
        self, ctx: RequestContext, spec: EndpointConfigCreate
    ) -> EndpointConfigInfo:
        """Create an endpoint config.

        Raises:
            ValidationError: Repeated variant names, an unknown model, bad capture settings.
            AlreadyExists: A config of that name exists.
        """
        ctx.require("write")
        validate_tags(tag_map(spec.tags))
        with self.db.session() as session:
            known = {r.name for r in session.query(HostedModelRecord.name).all()}
        check_endpoint_config(spec, lambda name: name in known)
        record = EndpointConfigRecord(
            name=spec.endpoint_config_name,
            arn=self._arn("endpoint-config", spec.endpoint_config_name),
            spec=spec.model_dump(mode="json"),
            creation_time=self.clock(),
        )
        self._insert(
            record, f'Cannot create already existing endpoint configuration "{record.arn}".'
        )
        return _config_info(record)

    def describe_endpoint_config(self, ctx: RequestContext, name: str) -> EndpointConfigInfo:
        """Everything about one endpoint config.

        Raises:
            NotFound: No such config.
        """
        ctx.require("read")
        return _config_info(self._get(EndpointConfigRecord, name, "endpoint configuration"))

    def list_endpoint_configs(
        self,
        ctx: RequestContext,
        *,
        name_contains: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: Literal["Name", "CreationTime"] = "CreationTime",
        sort_order: SortOrder = "Descending",
        max_results: int = 10,
        next_token: str | None = None,
    ) -> Page[EndpointConfigSummary]:
        """List endpoint configs, newest first unless sorted otherwise."""
        ctx.require("read")
        return self._page(
            "configs",
            self._filtered(
                EndpointConfigRecord, name_contains, creation_time_after, creation_time_before
            ),
            lambda r: EndpointConfigSummary(
                endpoint_config_name=r.name,
                endpoint_config_arn=r.arn,
                creation_time=r.creation_time,
            ),
            (name_contains, creation_time_after, creation_time_before),
            sort_by,
            sort_order,
            max_results,
            next_token,
        )

    def delete_endpoint_config(self, ctx: RequestContext, name: str) -> None:
        """Delete an endpoint config (endpoints that use it keep serving).

        Raises:
            NotFound: No such config.
        """
        ctx.require("write")
        self._delete(EndpointConfigRecord, name, "endpoint configuration")

    def _config(self, name: str) -> EndpointConfigCreate:
        """A config an endpoint is to use (a missing one is the request's mistake)."""
        with self.db.session() as session:
            record = session.get(EndpointConfigRecord, name)
        if record is None:
            raise ValidationError(
                f'Could not find endpoint configuration "{self._arn("endpoint-config", name)}".'
            )
        return EndpointConfigCreate(**record.spec)

    def _images(self, config: EndpointConfigCreate) -> dict[str, list[str]]:
        """Model name → the images of its containers, for every variant of ``config``."""
        images: dict[str, list[str]] = {}
        with self.db.session() as session:
            for variant in all_variants(config):
                record = session.get(HostedModelRecord, variant.model_name)
                if record is None:
                    raise ValidationError(
                        f"Could not find model {variant.model_name!r} used by variant "
                        f"{variant.variant_name!r}"
                    )
                model = ModelCreate(**record.spec)
                images[variant.model_name] = [c.image or "" for c in containers_of(model)]
        return images

    # -- record helpers --------------------------------------------------------------------------

    def _insert(self, record: Any, exists_message: str) -> None:
        try:
            with self.db.session() as session:
                if session.get(type(record), record.name) is not None:
                    raise AlreadyExists(exists_message)
                session.add(record)
        except IntegrityError:
            raise AlreadyExists(exists_message) from None

    def _not_found(self, name: str, kind: str) -> NotFound:
        return NotFound(f'Could not find {kind} "{self._arn(_RESOURCE.get(kind, kind), name)}".')

    def _get(self, model: type[R], name: str, kind: str) -> R:
        with self.db.session() as session:
            record = session.get(model, name)
        if record is None:
            raise self._not_found(name, kind)
        return record

    def _delete(self, model: type[Any], name: str, kind: str) -> None:
        with self.db.session() as session:
            record = session.get(model, name)
            if record is None:
                raise self._not_found(name, kind)
            session.delete(record)

    def _filtered(
        self,
        model: type[Any],
        name_contains: str | None,
        after: datetime | None,
        before: datetime | None,
    ) -> list[Any]:
        with self.db.session() as session:
            rows = list(session.query(model).all())
        return [r for r in rows if listing.in_window(r, name_contains, after, before)]

    @staticmethod
    def _page(
        kind: str,
        rows: list[Any],
        convert: Callable[[Any], S],
        filters: tuple[Any, ...],
        sort_by: str,
        sort_order: SortOrder,
        max_results: int,
        next_token: str | None,
    ) -> Page[S]:
        """One page of ``rows`` sorted as asked; the token is bound to the kind and filters."""
        return listing.page(
            rows,
            key=listing.sort_key(sort_by),
            descending=sort_order == "Descending",
            max_results=max_results,
            next_token=next_token,
            fingerprint=listing.fingerprint(kind, *filters, sort_by, sort_order),
            convert=convert,
        )


def _model_info(record: HostedModelRecord) -> ModelInfo:
    spec = ModelCreate(**record.spec)
    return ModelInfo(
        model_name=record.name,
        model_arn=record.arn,
        creation_time=record.creation_time,
        **spec.model_dump(exclude={"model_name"}),
    )


def _config_info(record: EndpointConfigRecord) -> EndpointConfigInfo:
    spec = EndpointConfigCreate(**record.spec)
    return EndpointConfigInfo(
        endpoint_config_arn=record.arn,
        creation_time=record.creation_time,
        **spec.model_dump(),
    )
