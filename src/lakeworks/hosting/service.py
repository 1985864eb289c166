"""Operations on models, endpoint configs and endpoints; every adapter calls these.

Models and endpoint configs are immutable records (create, describe, list, delete). Endpoints
have a lifecycle run by :class:`~lakeworks.hosting.endpoints.EndpointEngine`: this service
checks a request, records it (``Creating``, ``Updating``, ``Deleting``) and returns at once, as
SageMaker does; ``DescribeEndpoint`` shows the progress. Invocations go through
:class:`~lakeworks.hosting.runtime.Runtime` without touching the database.

Not-found and already-exists errors carry SageMaker's wording (``Could not find endpoint
"arn:…"``); the AWS adapter answers them as ``ValidationException``, as SageMaker does, and the
native API as 404 and 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy.exc import IntegrityError

from lakeworks.backends.base import Backend, ServiceBackend
from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.names import arn, validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting import listing
from lakeworks.hosting.alarm_service import AlarmService
from lakeworks.hosting.async_inference import AsyncAccepted, AsyncInference, AsyncRequest
from lakeworks.hosting.capture import CaptureBuffer, CaptureWriter
from lakeworks.hosting.deployments import check_deployment, pending_summary
from lakeworks.hosting.endpoint_configs import all_variants, check_endpoint_config
from lakeworks.hosting.endpoints import EndpointEngine, ObjectWriter
from lakeworks.hosting.metrics import MetricsRegistry, prometheus_text
from lakeworks.hosting.models import check_model, containers_of
from lakeworks.hosting.router import RouteTable
from lakeworks.hosting.runtime import Invocation, InvocationResult, Runtime
from lakeworks.hosting.serverless import ServerlessManager
from lakeworks.hosting.store import EndpointConfigRecord, EndpointRecord, HostedModelRecord
from lakeworks.hosting.variants import VariantState, apply_desired, initial_states, summaries
from lakeworks.lake.service import parse_s3_uri
from lakeworks.schemas.common import Page
from lakeworks.schemas.hosting import (
    DataCaptureConfig,
    DataCaptureConfigSummary,
    EndpointConfigCreate,
    EndpointConfigInfo,
    EndpointConfigSummary,
    EndpointCreate,
    EndpointInfo,
    EndpointMetrics,
    EndpointStatus,
    EndpointSummary,
    EndpointUpdate,
    EndpointWeightsUpdate,
    ModelCreate,
    ModelInfo,
    ModelSummary,
    Tag,
    tag_map,
)
from lakeworks.schemas.hosting_async import AsyncInvocationInfo
from lakeworks.schemas.hosting_deployments import PendingDeploymentSummary

__all__ = ["HostingService", "SortOrder"]

SortOrder = Literal["Ascending", "Descending"]
R = TypeVar("R")


class HostingService:
    """Models, endpoint configs, endpoints and invocations.

    Args:
        settings: The settings tree.
        db: The metadata database.
        lake: Artifacts come from it; captures go to it.
        backend: Runs the model servers (a :class:`ServiceBackend`; otherwise endpoints fail
            with a reason).
        clock: Current UTC time.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        lake: ObjectWriter,
        backend: Backend,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.lake = lake
        self.clock = clock
        self.metrics = MetricsRegistry()
        self.capture_buffer = CaptureBuffer()
        self.runtime = Runtime(
            settings.aws.account_id,
            settings.hosting.invocation_timeout_seconds,
            self.metrics,
            self.capture_buffer,
        )
        services = backend if isinstance(backend, ServiceBackend) else None
        self.alarms = AlarmService(settings, db, self.metrics, clock)
        self.engine = EndpointEngine(
            settings, db, lake, services, self.runtime, clock, self.alarms.evaluator
        )
        self.capture_writer = CaptureWriter(
            self.capture_buffer, self.engine.put_capture, settings.hosting.capture_flush_seconds
        )
        self.serverless = ServerlessManager(
            self.engine,
            self.runtime,
            settings.hosting.serverless_idle_seconds,
            settings.hosting.startup_timeout_seconds,
        )
        self.runtime.serverless = self.serverless
        self.async_inference = AsyncInference(settings, db, lake, self.engine, self.runtime, clock)

    def start(self) -> None:
        """Adopt the endpoints an earlier server left, start the monitor and capture writer."""
        self.alarms.start()
        self.engine.start()
        self.capture_writer.start()
        self.serverless.start()
        self.async_inference.start()

    def close(self) -> None:
        """Write pending captures; stop the instances and background threads."""
        self.async_inference.close()
        self.serverless.close()
        self.capture_writer.close()
        self.engine.close()
        self.alarms.close()

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
        return self._model_info(record)

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
        return self._model_info(self._get(HostedModelRecord, name, "model"))

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
        rows = self._filtered(
            HostedModelRecord, name_contains, creation_time_after, creation_time_before
        )
        return listing.page(
            rows,
            key=listing.sort_key(sort_by),
            descending=sort_order == "Descending",
            max_results=max_results,
            next_token=next_token,
            fingerprint=listing.fingerprint(
                "models",
                name_contains,
                creation_time_after,
                creation_time_before,
                sort_by,
                sort_order,
            ),
            convert=lambda r: ModelSummary(
                model_name=r.name, model_arn=r.arn, creation_time=r.creation_time
            ),
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
        return self._config_info(record)

    def describe_endpoint_config(self, ctx: RequestContext, name: str) -> EndpointConfigInfo:
        """Everything about one endpoint config.

        Raises:
            NotFound: No such config.
        """
        ctx.require("read")
        return self._config_info(self._get(EndpointConfigRecord, name, "endpoint configuration"))

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
        rows = self._filtered(
            EndpointConfigRecord, name_contains, creation_time_after, creation_time_before
        )
        return listing.page(
            rows,
            key=listing.sort_key(sort_by),
            descending=sort_order == "Descending",
            max_results=max_results,
            next_token=next_token,
            fingerprint=listing.fingerprint(
                "configs",
                name_contains,
                creation_time_after,
                creation_time_before,
                sort_by,
                sort_order,
            ),
            convert=lambda r: EndpointConfigSummary(
                endpoint_config_name=r.name,
                endpoint_config_arn=r.arn,
                creation_time=r.creation_time,
            ),
        )

    def delete_endpoint_config(self, ctx: RequestContext, name: str) -> None:
        """Delete an endpoint config (endpoints that use it keep serving).

        Raises:
            NotFound: No such config.
        """
        ctx.require("write")
        self._delete(EndpointConfigRecord, name, "endpoint configuration")

    # -- endpoints -------------------------------------------------------------------------------

    def _config(self, name: str) -> EndpointConfigCreate:
        with self.db.session() as session:
            record = session.get(EndpointConfigRecord, name)
        if record is None:
            raise ValidationError(
                f'Could not find endpoint configuration "{self._arn("endpoint-config", name)}".'
            )
        return EndpointConfigCreate(**record.spec)

    def _images(self, config: EndpointConfigCreate) -> dict[str, list[str]]:
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

    def create_endpoint(self, ctx: RequestContext, spec: EndpointCreate) -> EndpointInfo:
        """Create an endpoint; it is ``Creating`` until its instances answer, then ``InService``
        (or ``Failed`` with a reason).

        Raises:
            ValidationError: Unknown endpoint config or model.
            AlreadyExists: An endpoint of that name exists.
        """
        ctx.require("write")
        validate_tags(tag_map(spec.tags))
        config = self._config(spec.endpoint_config_name)
        now = self.clock()
        states = initial_states(config, self._images(config), now)
        record = EndpointRecord(
            name=spec.endpoint_name,
            arn=self._arn("endpoint", spec.endpoint_name),
            config_name=spec.endpoint_config_name,
            status="Creating",
            failure_reason=None,
            variants=[s.to_json() for s in states],
            active_fleet=None,
            pending_config=None,
            pending_variants=None,
            data_capture=_dump(config.data_capture_config),
            async_inference=_dump(config.async_inference_config),
            deployment_config=_dump(spec.deployment_config),
            tags=tag_map(spec.tags),
            principal=ctx.principal,
            scopes=sorted(ctx.scopes),
            creation_time=now,
            last_modified_time=now,
        )
        self._insert(record, f'Cannot create already existing endpoint "{record.arn}".')
        # Known to the request path at once: invoking it now says "Creating", not "not found".
        self.runtime.publish(RouteTable(spec.endpoint_name, "Creating"))
        self.engine.submit("create", spec.endpoint_name)
        return self._endpoint_info(record)

    def describe_endpoint(self, ctx: RequestContext, name: str) -> EndpointInfo:
        """Everything about one endpoint, with its variants' current and desired values.

        Raises:
            NotFound: No such endpoint.
        """
        ctx.require("read")
        return self._endpoint_info(self._get(EndpointRecord, name, "endpoint"))

    def list_endpoints(
        self,
        ctx: RequestContext,
        *,
        status_equals: EndpointStatus | None = None,
        name_contains: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: Literal["Name", "CreationTime", "Status"] = "CreationTime",
        sort_order: SortOrder = "Descending",
        max_results: int = 10,
        next_token: str | None = None,
    ) -> Page[EndpointSummary]:
        """List endpoints, newest first unless sorted otherwise."""
        ctx.require("read")
        rows = [
            r
            for r in self._filtered(
                EndpointRecord, name_contains, creation_time_after, creation_time_before
            )
            if status_equals is None or r.status == status_equals
        ]
        return listing.page(
            rows,
            key=listing.sort_key(sort_by),
            descending=sort_order == "Descending",
            max_results=max_results,
            next_token=next_token,
            fingerprint=listing.fingerprint(
                "endpoints",
                status_equals,
                name_contains,
                creation_time_after,
                creation_time_before,
                sort_by,
                sort_order,
            ),
            convert=self._endpoint_summary,
        )

    def _require_in_service(self, name: str) -> EndpointRecord:
        record = self._get(EndpointRecord, name, "endpoint")
        if record.status != "InService":
            raise ValidationError(
                f'Cannot update in-progress endpoint "{record.arn}": it is {record.status}; '
                "wait until it is InService"
            )
        return record

    def update_endpoint(self, ctx: RequestContext, name: str, spec: EndpointUpdate) -> EndpointInfo:
        """Move an endpoint to another config: ``Updating`` while a new fleet starts beside the
        old one (which keeps serving), then ``InService`` on the new config.

        With a ``deployment_config`` (blue/green), traffic moves to the new fleet as its policy
        says and an alarm in ALARM rolls it back (:mod:`lakeworks.hosting.rollout`).

        Raises:
            NotFound: No such endpoint.
            ValidationError: Not InService, an unknown config, or a deployment config that
                cannot run (:func:`~lakeworks.hosting.deployments.check_deployment`).
        """
        ctx.require("write")
        self._require_in_service(name)
        excluded: set[str] = {
            p.variant_property_type for p in spec.exclude_retained_variant_properties or []
        }
        if excluded and not spec.retain_all_variant_properties:
            raise ValidationError(
                "ExcludeRetainedVariantProperties applies only with RetainAllVariantProperties true"
            )
        config = self._config(spec.endpoint_config_name)
        new_states = initial_states(config, self._images(config), self.clock())
        with self.db.session() as session:
            record = session.get(EndpointRecord, name)
            if record is None or record.status != "InService":
                raise ValidationError(f"Endpoint {name} changed meanwhile; try again")
            if spec.retain_all_variant_properties:
                old = {s["variant_name"]: s for s in record.variants}
                new_states = [
                    _retain(s, old[s.variant_name], excluded) if s.variant_name in old else s
                    for s in new_states
                ]
            if spec.deployment_config is not None:
                instances = sum(s.desired_instance_count for s in new_states if not s.shadow)
                check_deployment(spec.deployment_config, instances, self.alarms.names())
            record.status = "Updating"
            record.pending_config = spec.endpoint_config_name
            record.pending_variants = [s.to_json() for s in new_states]
            record.failure_reason = None
            if spec.deployment_config is not None or not spec.retain_deployment_config:
                record.deployment_config = _dump(spec.deployment_config)
            record.last_modified_time = self.clock()
        self.engine.submit("update", name)
        return self._endpoint_info(record)

    def update_endpoint_weights_and_capacities(
        self, ctx: RequestContext, name: str, spec: EndpointWeightsUpdate
    ) -> EndpointInfo:
        """Set variants' desired weights and instance counts; ``Updating`` until they apply.

        Raises:
            NotFound: No such endpoint.
            ValidationError: Not InService, or an update :func:`apply_desired` refuses.
        """
        ctx.require("write")
        record = self._require_in_service(name)
        states = apply_desired(
            [VariantState.from_json(s) for s in record.variants],
            spec.desired_weights_and_capacities,
        )
        with self.db.session() as session:
            current = session.get(EndpointRecord, name)
            if current is None or current.status != "InService":
                raise ValidationError(f"Endpoint {name} changed meanwhile; try again")
            current.variants = [s.to_json() for s in states]
            current.status = "Updating"
            current.failure_reason = None
            current.last_modified_time = self.clock()
            record = current
        self.engine.submit("capacities", name)
        return self._endpoint_info(record)

    def delete_endpoint(self, ctx: RequestContext, name: str) -> None:
        """Delete an endpoint: ``Deleting`` until its instances stopped, then gone.

        Raises:
            NotFound: No such endpoint.
        """
        ctx.require("write")
        with self.db.session() as session:
            record = session.get(EndpointRecord, name)
            if record is None:
                raise NotFound(f'Could not find endpoint "{self._arn("endpoint", name)}".')
            record.status = "Deleting"
            record.last_modified_time = self.clock()
        self.runtime.remove(name)
        self.engine.abort(name)
        self.engine.submit("delete", name)

    # -- invocations and metrics -----------------------------------------------------------------

    async def invoke_endpoint(
        self, ctx: RequestContext, invocation: Invocation
    ) -> InvocationResult:
        """Run one real-time invocation (see :mod:`lakeworks.hosting.runtime`)."""
        ctx.require("read")
        return await self.runtime.invoke(invocation)

    def invoke_endpoint_async(self, ctx: RequestContext, request: AsyncRequest) -> AsyncAccepted:
        """Queue one async invocation (see :mod:`lakeworks.hosting.async_inference`)."""
        return self.async_inference.submit(ctx, request)

    def describe_async_invocation(
        self, ctx: RequestContext, inference_id: str
    ) -> AsyncInvocationInfo:
        """The state of an async invocation (the newest with that InferenceId)."""
        return self.async_inference.describe(ctx, inference_id)

    def endpoint_metrics(self, ctx: RequestContext, name: str) -> EndpointMetrics:
        """Invocation counts and latencies of every variant (and model) since the server started.

        Raises:
            NotFound: No such endpoint.
        """
        ctx.require("read")
        self._get(EndpointRecord, name, "endpoint")
        counts = {(e, v): n for e, v, n in self.engine.instance_counts() if e == name}
        series = self.metrics.of_endpoint(name)
        seen = {s.variant for s in series}
        variants = [s.to_schema(counts.get((name, s.variant))) for s in series]
        for (_, variant), count in sorted(counts.items()):
            if variant not in seen:
                variants.append(self.metrics.series(name, variant).to_schema(count))
        return EndpointMetrics(endpoint_name=name, variants=variants)

    def prometheus_metrics(self, ctx: RequestContext) -> str:
        """Every endpoint's metrics in the Prometheus text format."""
        ctx.require("read")
        text = prometheus_text(self.metrics.all(), self.engine.instance_counts())
        return text + self.serverless.prometheus()

    def read_instance_log(
        self, ctx: RequestContext, name: str, *, variant: str | None, offset: int, limit: int
    ) -> tuple[str, bytes]:
        """The end of an instance's model server log: ``(instance id, bytes)``.

        Raises:
            NotFound: No such endpoint, or no instance (of that variant).
        """
        ctx.require("read")
        self._get(EndpointRecord, name, "endpoint")
        view = self.engine.views.get(name)
        fleet = view.fleets.get(view.active_fleet or "") if view else None
        candidates = [
            instance
            for group in (fleet.instances.values() if fleet else [])
            for instance in group
            if variant is None or instance.variant == variant
        ]
        if not candidates or self.engine.backend is None:
            raise NotFound(
                f"Endpoint {name} has no running instance"
                + (f" of variant {variant}" if variant else "")
            )
        instance = candidates[0]
        assert instance.handle is not None
        chunk = self.engine.backend.read_logs(instance.handle, offset, limit)
        return instance.instance_id, chunk.data

    # -- helpers ---------------------------------------------------------------------------------

    def _insert(self, record: Any, exists_message: str) -> None:
        try:
            with self.db.session() as session:
                if session.get(type(record), record.name) is not None:
                    raise AlreadyExists(exists_message)
                session.add(record)
        except IntegrityError:
            raise AlreadyExists(exists_message) from None

    def _get(self, model: type[R], name: str, kind: str) -> R:
        with self.db.session() as session:
            record = session.get(model, name)
        if record is None:
            resource = {"endpoint configuration": "endpoint-config"}.get(kind, kind)
            raise NotFound(f'Could not find {kind} "{self._arn(resource, name)}".')
        return record

    def _delete(self, model: type[Any], name: str, kind: str) -> None:
        with self.db.session() as session:
            record = session.get(model, name)
            if record is None:
                resource = {"endpoint configuration": "endpoint-config"}.get(kind, kind)
                raise NotFound(f'Could not find {kind} "{self._arn(resource, name)}".')
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
    def _model_info(record: HostedModelRecord) -> ModelInfo:
        spec = ModelCreate(**record.spec)
        return ModelInfo(
            model_name=record.name,
            model_arn=record.arn,
            creation_time=record.creation_time,
            **spec.model_dump(exclude={"model_name"}),
        )

    @staticmethod
    def _config_info(record: EndpointConfigRecord) -> EndpointConfigInfo:
        spec = EndpointConfigCreate(**record.spec)
        return EndpointConfigInfo(
            endpoint_config_arn=record.arn,
            creation_time=record.creation_time,
            **spec.model_dump(),
        )

    @staticmethod
    def _endpoint_summary(record: EndpointRecord) -> EndpointSummary:
        return EndpointSummary(
            endpoint_name=record.name,
            endpoint_arn=record.arn,
            creation_time=record.creation_time,
            last_modified_time=record.last_modified_time,
            endpoint_status=record.status,
        )

    def _pending(self, record: EndpointRecord) -> PendingDeploymentSummary | None:
        """The deployment in progress, while an update is (None otherwise)."""
        if record.pending_config is None or record.status not in ("Updating", "RollingBack"):
            return None
        view = self.engine.views.get(record.name)
        shift = view.shift if view else None
        fleet = view.fleets.get(shift.fleet_id) if view and shift else None
        states = [VariantState.from_json(s) for s in record.pending_variants or []]
        ready = fleet.ready_counts() if fleet else {}
        return pending_summary(
            record.pending_config, states, shift, ready, record.last_modified_time
        )

    def _endpoint_info(self, record: EndpointRecord) -> EndpointInfo:
        production, shadows = summaries([VariantState.from_json(s) for s in record.variants])
        capture = None
        if record.data_capture:
            config = DataCaptureConfig(**record.data_capture)
            capture = DataCaptureConfigSummary(
                enable_capture=config.enable_capture,
                capture_status="Started" if config.enable_capture else "Stopped",
                current_sampling_percentage=config.initial_sampling_percentage,
                destination_s3_uri=config.destination_s3_uri,
                kms_key_id=config.kms_key_id,
            )
        return EndpointInfo(
            **self._endpoint_summary(record).model_dump(),
            endpoint_config_name=record.config_name,
            production_variants=production,
            shadow_production_variants=shadows or None,
            data_capture_config=capture,
            async_inference_config=record.async_inference,
            last_deployment_config=record.deployment_config,
            pending_deployment_summary=self._pending(record),
            failure_reason=record.failure_reason,
            tags=[Tag(key=k, value=v) for k, v in record.tags.items()],
        )


def _dump(model: Any) -> dict[str, Any] | None:
    return None if model is None else dict(model.model_dump(mode="json"))


def _retain(new: VariantState, old: dict[str, Any], excluded: set[str]) -> VariantState:
    from dataclasses import replace

    return replace(
        new,
        desired_weight=new.desired_weight
        if "DesiredWeight" in excluded
        else float(old["desired_weight"]),
        desired_instance_count=new.desired_instance_count
        if "DesiredInstanceCount" in excluded
        else int(old["desired_instance_count"]),
    )
