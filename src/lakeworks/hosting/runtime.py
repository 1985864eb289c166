"""The request path of real-time inference, shared by InvokeEndpoint and the native route.

One invocation: find the endpoint's current :class:`~lakeworks.hosting.router.RouteTable` (in
memory: no database on this path), choose the variant (TargetVariant or weight) and the instance
(fewest requests in flight), forward the body over a kept-alive connection, and hand back the
model's answer with the variant that served it. Around that: a copy to a shadow variant (its
answer discarded), a capture sample queued for the writer thread, and the metrics.

Failures, as SageMaker Runtime reports them: an unknown endpoint or variant is a
``ValidationError``; a model that answers an error is a ``ModelError`` (424) with its status and
message; a model server that breaks the connection (it crashed) or does not answer within
``hosting.invocation_timeout_seconds`` is a 5xx ``ModelError`` at once — never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakeworks.core.clock import utcnow
from lakeworks.core.errors import LakeworksError, PayloadTooLarge, ValidationError
from lakeworks.hosting.capture import CaptureBuffer, CaptureEvent, CapturePolicy
from lakeworks.hosting.errors import (
    ModelUnavailable,
    ServiceUnavailable,
    endpoint_not_found,
    model_error,
)
from lakeworks.hosting.http1 import ProtocolError
from lakeworks.hosting.metrics import MetricsRegistry, Series
from lakeworks.hosting.model_server import (
    ATTRIBUTES_HEADER,
    MODEL_DIR_HEADER,
    TARGET_CONTAINER_HEADER,
)
from lakeworks.hosting.router import (
    RouteTable,
    Target,
    VariantPool,
    VariantRoute,
    choose_pool,
    choose_variant,
)

if TYPE_CHECKING:
    from lakeworks.hosting.serverless import ServerlessGate, ServerlessManager

__all__ = ["MAX_PAYLOAD_BYTES", "Invocation", "InvocationResult", "Runtime"]

log = logging.getLogger("lakeworks.hosting")

#: SageMaker Runtime's limit on request and response bodies (6 MB).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
#: Statuses in which an endpoint answers invocations.
SERVING = frozenset({"InService", "Updating", "SystemUpdating", "RollingBack"})


@dataclass(frozen=True)
class Invocation:
    """One InvokeEndpoint request."""

    endpoint: str
    body: bytes
    content_type: str | None = None
    accept: str | None = None
    custom_attributes: str | None = None
    target_variant: str | None = None
    target_model: str | None = None
    target_container: str | None = None
    inference_id: str | None = None
    #: Largest body accepted (async invocations read bigger inputs from the lake).
    max_bytes: int = MAX_PAYLOAD_BYTES
    #: Seconds the model may take (None: ``hosting.invocation_timeout_seconds``).
    timeout: float | None = None


@dataclass(frozen=True)
class InvocationResult:
    """The model's answer and the variant that gave it."""

    body: bytes
    content_type: str
    variant: str
    custom_attributes: str | None = None
    #: The serverless cold start this invocation waited for (milliseconds), if any.
    cold_start_ms: float | None = None


def payload_too_large(size: int) -> PayloadTooLarge:
    """AWS's refusal of a body over 6 MB."""
    return PayloadTooLarge(
        f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes.",
        details={"limit": MAX_PAYLOAD_BYTES, "size": size},
    )


class Runtime:
    """Route tables of the endpoints this server hosts, and the invocation path.

    Args:
        account_id: For AWS's "not found" message.
        timeout: Seconds a model may take per invocation.
        metrics: Where invocations are counted.
        capture: Where capture samples are queued.
    """

    def __init__(
        self,
        account_id: str,
        timeout: float,
        metrics: MetricsRegistry,
        capture: CaptureBuffer,
    ) -> None:
        self.account_id = account_id
        self.timeout = timeout
        self.metrics = metrics
        self.capture = capture
        self.tables: dict[str, RouteTable] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._random = random.Random()  # noqa: S311 - routing, not security
        #: Admits invocations of serverless variants (set by the hosting service).
        self.serverless: ServerlessManager | None = None

    # -- tables (called from server threads) -------------------------------------------------

    def publish(self, table: RouteTable) -> None:
        """Make ``table`` the endpoint's routes (atomic for readers)."""
        self.tables[table.endpoint] = table

    def remove(self, endpoint: str) -> None:
        """Forget an endpoint's routes (it no longer exists)."""
        self.tables.pop(endpoint, None)

    def retire(self, target: Target) -> None:
        """Close a stopped instance's connections, on the event loop that opened them."""
        target.dead = True
        target.pool.closed = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(target.pool.close)

    # -- the request path ----------------------------------------------------------------------

    async def invoke(self, request: Invocation) -> InvocationResult:
        """Answer one invocation (see the module docstring).

        Raises:
            LakeworksError: ``ValidationError`` (unknown endpoint/variant, not in service, bad
                TargetModel), ``PayloadTooLarge``, ``ModelError`` (424 or 5xx),
                ``ServiceUnavailable``.
        """
        started = time.perf_counter()
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        if len(request.body) > request.max_bytes:
            raise payload_too_large(len(request.body))
        table = self.tables.get(request.endpoint)
        if table is None:
            raise endpoint_not_found(request.endpoint, self.account_id)
        if table.status not in SERVING:
            raise ValidationError(
                f"Endpoint {request.endpoint} is {table.status}; it answers invocations once it "
                "is InService (see DescribeEndpoint)",
                aws_code="ValidationError",
            )
        route = choose_variant(table, request.target_variant, self._random.random())
        series = self.metrics.series(table.endpoint, route.name, request.target_model or "")
        model_us: float | None = None
        gate = self.serverless.gate(table.endpoint, route.name) if self.serverless else None
        admitted: ServerlessGate | None = None
        cold_ms: float | None = None
        try:
            if gate is not None and self.serverless is not None:
                cold_ms = await self.serverless.enter(gate)
                admitted = gate
                table = self.tables.get(request.endpoint, table)  # a cold start republished it
                route = table.variant(route.name) or route
            pool = self._pool(route, table)
            headers = self._headers(request)
            if request.target_model is not None or pool.multi_model is not None:
                headers[MODEL_DIR_HEADER] = await self._stage(request, pool)
            model_started = time.perf_counter()
            status, response_headers, body = await self._forward(
                pool, headers, request.body, request.timeout
            )
            model_us = (time.perf_counter() - model_started) * 1e6
            if status != 200:
                series.model_errors += 1
                message = body.decode("utf-8", "replace")[:2000]
                raise model_error(status, message, pool.container, table.endpoint)
            if len(body) > request.max_bytes:
                raise ModelUnavailable(
                    f"The model's response is {len(body)} bytes, over the limit of "
                    f"{request.max_bytes}"
                )
        except LakeworksError as exc:
            # CloudWatch counts a ModelError by the model's own status (a 500 is a 5XX error).
            status = int(exc.details.get("OriginalStatusCode", exc.status))
            series.record(status, model_us, _elapsed_us(started, model_us))
            raise
        finally:
            if admitted is not None:
                admitted.leave()
        result = InvocationResult(
            body=body,
            content_type=response_headers.get("content-type", "application/octet-stream"),
            variant=route.name,
            custom_attributes=response_headers.get(ATTRIBUTES_HEADER),
            cold_start_ms=cold_ms,
        )
        if table.shadows:
            self._spawn(self._shadow(table, headers, request.body))
        policy: CapturePolicy | None = table.capture
        if policy is not None and self._random.random() * 100 < policy.percentage:
            self._capture(policy, table.endpoint, route.name, request, result)
        series.record(200, model_us, _elapsed_us(started, model_us))
        return result

    @staticmethod
    def _pool(route: VariantRoute, table: RouteTable) -> VariantPool:
        pool = choose_pool(route, random.random())  # noqa: S311
        if pool is None:
            raise ServiceUnavailable(
                f"Variant {route.name} of endpoint {table.endpoint} has no running instance "
                "right now (it is being restarted); try again shortly"
            )
        return pool

    @staticmethod
    def _headers(request: Invocation) -> dict[str, str]:
        headers: dict[str, str] = {}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        if request.accept:
            headers["Accept"] = request.accept
        if request.custom_attributes:
            headers[ATTRIBUTES_HEADER] = request.custom_attributes
        if request.target_container:
            headers[TARGET_CONTAINER_HEADER] = request.target_container
        return headers

    async def _stage(self, request: Invocation, pool: VariantPool) -> str:
        if pool.multi_model is None:
            raise ValidationError(
                "TargetModel is only for multi-model endpoints (a container with Mode "
                "MultiModel); leave it out for this endpoint",
                aws_code="ValidationError",
            )
        if not request.target_model:
            raise ValidationError(
                f"Endpoint {request.endpoint} is a multi-model endpoint: name the model to use "
                "with TargetModel",
                aws_code="ValidationError",
            )
        name: str = await pool.multi_model.stage(request.target_model)
        return name

    async def _forward(
        self, pool: VariantPool, headers: dict[str, str], body: bytes, timeout: float | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send to the least busy instance; a refused connection tries another one once."""
        timeout = timeout or self.timeout
        for attempt in range(2):
            target = pool.pick()
            if target is None:
                break
            target.outstanding += 1
            try:
                async with asyncio.timeout(timeout):  # no extra task, unlike wait_for
                    return await target.pool.request("POST", "/invocations", headers, body)
            except ProtocolError as exc:
                raise ModelUnavailable(
                    f"The model server of variant {pool.variant_name} failed while handling the "
                    f"request ({exc}); it is restarted automatically",
                    details={"OriginalStatusCode": 502},
                ) from None
            except TimeoutError:
                raise ModelUnavailable(
                    f"The model of variant {pool.variant_name} did not answer within "
                    f"{timeout:.0f} s",
                    details={"OriginalStatusCode": 504},
                ) from None
            except OSError:
                # Not connected, so the request never reached the model: safe to try another.
                target.dead = True
                if attempt == 1:
                    break
            finally:
                target.outstanding -= 1
        raise ServiceUnavailable(
            f"No instance of variant {pool.variant_name} is reachable right now (it is being "
            "restarted); try again shortly"
        )

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _shadow(self, table: RouteTable, headers: dict[str, str], body: bytes) -> None:
        """Mirror one request to a shadow variant; its answer only counts in its metrics."""
        shadow = choose_variant(
            RouteTable(table.endpoint, table.status, table.shadows),
            None,
            random.random(),  # noqa: S311
        )
        series: Series = self.metrics.series(table.endpoint, shadow.name)
        started = time.perf_counter()
        status = 200
        try:
            pool = self._pool(shadow, table)
            answered, _, _ = await self._forward(pool, headers, body)
            if answered != 200:
                series.model_errors += 1
                status = 424  # the model's error is a ModelError, as on the production path
        except LakeworksError as exc:
            status = exc.status
        except Exception:  # a shadow never disturbs the production request
            log.exception("shadow invocation of %s failed", table.endpoint)
            status = 500
        series.record(status, (time.perf_counter() - started) * 1e6, 0.0)

    def _capture(
        self,
        policy: CapturePolicy,
        endpoint: str,
        variant: str,
        request: Invocation,
        result: InvocationResult,
    ) -> None:
        self.capture.add(
            policy,
            CaptureEvent(
                endpoint=endpoint,
                variant=variant,
                time=utcnow(),
                request_body=request.body,
                request_type=request.content_type,
                response_body=result.body,
                response_type=result.content_type,
                event_id=str(uuid.uuid4()),
                inference_id=request.inference_id,
            ),
        )


def _elapsed_us(started: float, model_us: float | None) -> float:
    return max(0.0, (time.perf_counter() - started) * 1e6 - (model_us or 0.0))
