"""Operations on models, endpoint configs and endpoints; every adapter calls these.

Models and endpoint configs are immutable records (:mod:`lakeworks.hosting.catalog`). Endpoints
have a lifecycle run by :class:`~lakeworks.hosting.endpoints.EndpointEngine`: this service
checks a request, records it (``Creating``, ``Updating``, ``Deleting``) and returns at once, as
SageMaker does; ``DescribeEndpoint`` shows the progress (:mod:`lakeworks.hosting.endpoint_info`).
Invocations go through :class:`~lakeworks.hosting.runtime.Runtime` without touching the database.

Not-found and already-exists errors carry SageMaker's wording (``Could not find endpoint
"arn:…"``); the AWS adapter answers them as ``ValidationException``, as SageMaker does, and the
native API as 404 and 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from lakeworks.backends.base import Backend, ServiceBackend
from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.core.names import validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting.alarm_service import AlarmService
from lakeworks.hosting.async_inference import AsyncAccepted, AsyncInference, AsyncRequest
from lakeworks.hosting.capture import CaptureBuffer, CaptureWriter
from lakeworks.hosting.catalog import HostingCatalog, SortOrder
from lakeworks.hosting.deployments import check_deployment
from lakeworks.hosting.endpoint_info import dump, endpoint_info, endpoint_summary, retain
from lakeworks.hosting.endpoints import EndpointEngine, ObjectWriter
from lakeworks.hosting.metrics import MetricsRegistry, prometheus_text
from lakeworks.hosting.router import RouteTable
from lakeworks.hosting.runtime import Invocation, InvocationResult, Runtime
from lakeworks.hosting.serverless import ServerlessManager
from lakeworks.hosting.store import EndpointRecord
from lakeworks.hosting.variants import VariantState, apply_desired, initial_states
from lakeworks.schemas.common import Page
from lakeworks.schemas.hosting import (
    EndpointCreate,
    EndpointInfo,
    EndpointMetrics,
    EndpointStatus,
    EndpointSummary,
    EndpointUpdate,
    EndpointWeightsUpdate,
    tag_map,
)
from lakeworks.schemas.hosting_async import AsyncInvocationInfo

__all__ = ["HostingService", "SortOrder"]


class HostingService(HostingCatalog):
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
        super().__init__(settings, db, lake, clock)
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
        self.alarms.evaluator.gauges = self._queue_gauges

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

    def _queue_gauges(self, endpoint: str, variant: str | None) -> tuple[int, int]:
        """``(backlog, instances)`` of an endpoint's async queue for alarms (0, 0: none)."""
        try:
            info = self.describe_endpoint(RequestContext.system(), endpoint)
        except NotFound:
            return 0, 0
        if info.async_inference_config is None:
            return 0, 0
        instances = sum(
            v.current_instance_count or 0
            for v in info.production_variants
            if variant is None or v.variant_name == variant
        )
        return self.async_inference.backlog(endpoint), instances

    # -- endpoints -------------------------------------------------------------------------------
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
            data_capture=dump(config.data_capture_config),
            async_inference=dump(config.async_inference_config),
            deployment_config=dump(spec.deployment_config),
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
        return self._page(
            "endpoints",
            rows,
            endpoint_summary,
            (status_equals, name_contains, creation_time_after, creation_time_before),
            sort_by,
            sort_order,
            max_results,
            next_token,
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
                    retain(s, old[s.variant_name], excluded) if s.variant_name in old else s
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
                record.deployment_config = dump(spec.deployment_config)
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
            minimum=0 if record.async_inference else 1,
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
                raise self._not_found(name, "endpoint")
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

    def _endpoint_info(self, record: EndpointRecord) -> EndpointInfo:
        return endpoint_info(record, self.engine.views.get(record.name))
