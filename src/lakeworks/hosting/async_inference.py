"""Asynchronous inference: ``InvokeEndpointAsync``, a durable queue and the worker that drains it.

An endpoint whose config has an ``AsyncInferenceConfig`` accepts requests that name their input
in the lake (``InputLocation``) or carry it inline (``Body``, at most 128,000 bytes). The
request is checked, written to ``hosting_async_invocations`` and answered at once (202) with the
``InferenceId`` and where the result will be: ``<S3OutputPath>/<uuid>.out`` on success,
``<S3FailurePath>/<uuid>-error.out`` (the output path when no failure path is set) otherwise.

The worker is a task on the server's event loop (the loop the model-server connections live
on). It claims queued rows oldest first, at most ``MaxConcurrentInvocationsPerInstance`` (or
``hosting.async_max_concurrent_invocations``) times the ready instances per endpoint, and runs
each through the same :class:`~lakeworks.hosting.runtime.Runtime` as real-time invocations
(serverless cold starts included), with the request's ``InvocationTimeoutSeconds``. A request
older than its ``RequestTTLSeconds`` when its turn comes fails as expired. An endpoint that has
no instance for a moment (restarting) keeps its requests queued; one that autoscaling scaled to
zero instances (``MinCapacity`` 0) claims nothing until an instance is back, and its backlog
(:meth:`AsyncInference.backlog`) is what scales it out again.

The queue is durable: a request accepted is in the database before the answer goes out, and a
server restart puts the ones in progress back in the queue (at least once, as SageMaker). When
the config's ``NotificationConfig`` names an ``http(s)`` URL as ``SuccessTopic`` or
``ErrorTopic``, a notification in SageMaker's SNS message shape is POSTed there through the
lake's durable webhook delivery (retried with backoff); SNS topic ARNs are kept but not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting import store
from lakeworks.hosting.endpoints import EndpointEngine, ObjectWriter
from lakeworks.hosting.errors import ServiceUnavailable, endpoint_not_found
from lakeworks.hosting.runtime import SERVING, Invocation, Runtime
from lakeworks.hosting.store import AsyncInvocationRecord, EndpointRecord
from lakeworks.lake.service import parse_s3_uri
from lakeworks.schemas.hosting import AsyncInferenceConfig
from lakeworks.schemas.hosting_async import AsyncInvocationInfo

if TYPE_CHECKING:
    from lakeworks.lake.notifications.service import NotificationService

__all__ = ["AsyncAccepted", "AsyncInference", "AsyncRequest", "sns_message"]

log = logging.getLogger("lakeworks.hosting")

#: Inline bodies: InvokeEndpointAsync's limit.
MAX_INLINE_BYTES = 128_000
#: Inputs read from the lake (AWS allows 1 GB; the model-server hop carries up to 64 MB).
MAX_INPUT_BYTES = 48 * 1024 * 1024
TTL_RANGE = (60, 21_600)
TIMEOUT_RANGE = (1, 3_600)
_WEBHOOK_ATTEMPTS = 4
_RETRY_SECONDS = 1.0
_REASON_LIMIT = 2000


@dataclass(frozen=True)
class AsyncRequest:
    """One InvokeEndpointAsync request (header values as given, not yet checked)."""

    endpoint: str
    input_location: str | None = None
    body: bytes | None = None
    content_type: str | None = None
    accept: str | None = None
    custom_attributes: str | None = None
    inference_id: str | None = None
    request_ttl_seconds: int | None = None
    invocation_timeout_seconds: int | None = None


@dataclass(frozen=True)
class AsyncAccepted:
    """What InvokeEndpointAsync answers."""

    inference_id: str
    output_location: str
    failure_location: str | None


def _in_range(name: str, value: int | None, bounds: tuple[int, int], default: int) -> int:
    if value is None:
        return default
    low, high = bounds
    if not low <= value <= high:
        raise ValidationError(
            f"{name} must be between {low} and {high} seconds, got {value}",
            aws_code="ValidationError",
        )
    return value


def _join(prefix: str, name: str) -> str:
    return f"{prefix.rstrip('/')}/{name}"


def sns_message(
    row: AsyncInvocationRecord, region: str, *, content_type: str | None, now: datetime
) -> dict[str, Any]:
    """The notification SageMaker publishes for a finished async invocation."""
    completed = row.status == "Completed"
    message: dict[str, Any] = {
        "awsRegion": region,
        "eventTime": now.isoformat(),
        "receivedTime": row.received_time.isoformat(),
        "invocationStatus": "Completed" if completed else "Failed",
        "requestParameters": {
            "contentType": row.content_type,
            "endpointName": row.endpoint_name,
            "inputLocation": row.input_location,
        },
        "inferenceId": row.inference_id,
        "eventVersion": "1.0",
        "eventSource": "aws:sagemaker",
        "eventName": "InferenceResult",
    }
    if completed:
        message["responseParameters"] = {
            "contentType": content_type,
            "outputLocation": row.output_location,
        }
    else:
        message["failureReason"] = row.failure_reason
        message["responseParameters"] = {"failureLocation": row.failure_location}
    return message


class AsyncInference:
    """The async request queue of every endpoint and its worker (see the module docstring).

    Args:
        settings: The settings tree (region, account, defaults).
        db: The metadata database (the queue).
        lake: Inputs come from it; outputs and failures go to it.
        engine: Knows each endpoint's instances (the concurrency limit) and owner.
        runtime: Runs the invocations.
        clock: Current UTC time.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        lake: ObjectWriter,
        engine: EndpointEngine,
        runtime: Runtime,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.db = db
        self.lake = lake
        self.engine = engine
        self.runtime = runtime
        self.clock = clock
        #: Sends success/error notifications to webhooks (wired by the platform).
        self.notifications: NotificationService | None = None
        self._running: dict[str, int] = {}
        self._count_lock = threading.Lock()  # _claim runs on a thread, _run on the loop
        self._not_before: dict[str, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None

    # -- accepting ------------------------------------------------------------------------------

    def submit(self, ctx: RequestContext, request: AsyncRequest) -> AsyncAccepted:
        """Check and queue one request; where its result will be.

        Raises:
            ValidationError: Unknown or non-async endpoint, not in service, no or two inputs, a
                missing input object, out-of-range TTL or timeout.
        """
        ctx.require("read")
        config = self._config(request.endpoint)
        ttl = _in_range("RequestTTLSeconds", request.request_ttl_seconds, TTL_RANGE, 21_600)
        timeout = _in_range(
            "InvocationTimeoutSeconds", request.invocation_timeout_seconds, TIMEOUT_RANGE, 900
        )
        self._check_input(ctx, request)
        inference_id = request.inference_id or str(uuid.uuid4())
        if len(inference_id) > 64 or not inference_id.isprintable() or inference_id[0].isspace():
            raise ValidationError(
                "InferenceId must be 1-64 printable characters, not starting with a space",
                aws_code="ValidationError",
            )
        output = config.output_config
        if not output.s3_output_path:
            raise ValidationError(
                f"Endpoint {request.endpoint} has no OutputConfig.S3OutputPath in its "
                "AsyncInferenceConfig; results have nowhere to go",
                aws_code="ValidationError",
            )
        key = str(uuid.uuid4())
        output_location = _join(output.s3_output_path, f"{key}.out")
        failure_location = _join(
            output.s3_failure_path or output.s3_output_path, f"{key}-error.out"
        )
        now = self.clock()
        with self.db.session() as session:
            session.add(
                AsyncInvocationRecord(
                    id=key,
                    endpoint_name=request.endpoint,
                    inference_id=inference_id,
                    status="Pending",
                    input_location=request.input_location,
                    body=request.body if request.input_location is None else None,
                    content_type=request.content_type,
                    accept=request.accept,
                    custom_attributes=request.custom_attributes,
                    output_location=output_location,
                    failure_location=failure_location,
                    invocation_timeout=timeout,
                    principal=ctx.principal,
                    scopes=sorted(ctx.scopes),
                    attempts=0,
                    failure_reason=None,
                    received_time=now,
                    expires_time=now + timedelta(seconds=ttl),
                    completed_time=None,
                )
            )
        self.wake()
        return AsyncAccepted(
            inference_id=inference_id,
            output_location=output_location,
            failure_location=failure_location if output.s3_failure_path else None,
        )

    def _config(self, endpoint: str) -> AsyncInferenceConfig:
        with self.db.session() as session:
            record = session.get(EndpointRecord, endpoint)
        if record is None or record.status == "Deleting":
            raise endpoint_not_found(endpoint, self.settings.aws.account_id)
        if not record.async_inference:
            raise ValidationError(
                f"Endpoint {endpoint} is not an asynchronous endpoint: its endpoint config has "
                "no AsyncInferenceConfig. Use InvokeEndpoint, or deploy a config with "
                "AsyncInferenceConfig to invoke it asynchronously",
                aws_code="ValidationError",
            )
        if record.status not in SERVING:
            raise ValidationError(
                f"Endpoint {endpoint} is {record.status}; it accepts invocations once it is "
                "InService (see DescribeEndpoint)",
                aws_code="ValidationError",
            )
        return AsyncInferenceConfig(**record.async_inference)

    def _check_input(self, ctx: RequestContext, request: AsyncRequest) -> None:
        if (request.input_location is None) == (request.body is None):
            raise ValidationError(
                "Give exactly one of InputLocation (an s3:// URI of the request payload) or an "
                "inline Body",
                aws_code="ValidationError",
            )
        if request.body is not None:
            if len(request.body) > MAX_INLINE_BYTES:
                raise ValidationError(
                    f"An inline Body may be at most {MAX_INLINE_BYTES} bytes, got "
                    f"{len(request.body)}; upload the payload and give its InputLocation",
                    aws_code="ValidationError",
                )
            return
        location = request.input_location or ""
        if not location.startswith("s3://"):
            raise ValidationError(
                f"InputLocation must be an s3:// URI in the Lakeworks lake, got {location!r}",
                aws_code="ValidationError",
            )
        try:
            bucket, key = parse_s3_uri(location)
        except ValidationError as exc:
            raise ValidationError(
                f"InputLocation {location!r} is not a valid S3 URI: {exc.message}",
                aws_code="ValidationError",
            ) from None
        try:
            info = self.lake.head_object(ctx, bucket, key) if key else None
        except NotFound:
            info = None
        if info is None:
            raise ValidationError(
                f"Could not find the input at InputLocation {location}: upload the payload "
                "there first",
                aws_code="ValidationError",
            )
        size = getattr(info, "size", 0) or 0
        if size > MAX_INPUT_BYTES:
            raise ValidationError(
                f"The input at {location} is {size} bytes; Lakeworks takes at most "
                f"{MAX_INPUT_BYTES} bytes per async invocation",
                aws_code="ValidationError",
            )

    # -- the worker -----------------------------------------------------------------------------

    def start(self) -> None:
        """Requeue what an earlier process was running; start the worker on the running loop.

        Without a running event loop (not started by the server) nothing is drained.
        """
        with self.db.session() as session:
            requeued = store.requeue_async_invocations(session)
        if requeued:
            log.info("requeued %d async invocations of an earlier server process", requeued)
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("no event loop: async invocations stay queued")
            return
        self._wake = asyncio.Event()
        self._worker = self._loop.create_task(self._drain(), name="lakeworks-async-inference")

    def wake(self) -> None:
        """A request was queued: look now rather than at the next poll (any thread)."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    def close(self) -> None:
        """Stop the worker; unfinished requests stay queued for the next start."""
        for task in [self._worker, *self._tasks]:
            if task is not None and self._loop is not None and not self._loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(task.cancel)

    async def _drain(self) -> None:
        assert self._wake is not None
        while True:
            try:
                claimed = await asyncio.to_thread(self._claim)
            except Exception:
                log.exception("claiming async invocations failed")
                claimed = []
            for row_id, endpoint in claimed:
                task = asyncio.ensure_future(self._run(row_id, endpoint))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await self._wake.wait()
                self._wake.clear()

    def _limit(self, endpoint: str, config: dict[str, Any] | None) -> int:
        client = (config or {}).get("client_config") or {}
        per_instance = int(
            client.get("max_concurrent_invocations_per_instance")
            or self.settings.hosting.async_max_concurrent_invocations
        )
        view = self.engine.views.get(endpoint)
        fleet = view.fleets.get(view.active_fleet or "") if view is not None else None
        ready = sum(fleet.ready_counts().values()) if fleet is not None else 0
        serverless = view is not None and any(s.serverless_config for s in view.states)
        if ready == 0 and fleet is not None and not serverless:
            return 0  # the requests wait for autoscaling to add an instance
        return per_instance * max(1, ready)  # one at a time cold-starts a scaled-to-zero one

    def _claim(self) -> list[tuple[str, str]]:
        """Mark queued rows InProgress within each endpoint's limit: ``(id, endpoint)``."""
        loop_time = self._loop.time() if self._loop is not None else 0.0
        claimed: list[tuple[str, str]] = []
        with self.db.session() as session:
            rows = store.pending_async_invocations(session, 200)
            configs: dict[str, dict[str, Any] | None] = {}
            for row in rows:
                if self._not_before.get(row.id, 0.0) > loop_time:
                    continue
                name = row.endpoint_name
                if name not in configs:
                    record = session.get(EndpointRecord, name)
                    configs[name] = record.async_inference if record is not None else None
                with self._count_lock:
                    if self._running.get(name, 0) >= self._limit(name, configs[name]):
                        continue
                    self._running[name] = self._running.get(name, 0) + 1
                self._not_before.pop(row.id, None)
                row.status = "InProgress"
                row.attempts += 1
                claimed.append((row.id, name))
        return claimed

    async def _run(self, row_id: str, endpoint: str) -> None:
        try:
            await self._process(row_id)
        except Exception:
            log.exception("async invocation %s failed unexpectedly", row_id)
            await asyncio.to_thread(self._finish, row_id, None, "Internal error; see the log")
        finally:
            with self._count_lock:
                self._running[endpoint] = max(0, self._running.get(endpoint, 1) - 1)
            if self._wake is not None:
                self._wake.set()

    async def _process(self, row_id: str) -> None:
        with self.db.session() as session:
            row = session.get(AsyncInvocationRecord, row_id)
            if row is None:
                return
            session.expunge(row)
        if self.clock() > row.expires_time:
            reason = "The request expired in the queue (RequestTTLSeconds)"
            await asyncio.to_thread(self._finish, row_id, None, reason)
            return
        try:
            body = (
                row.body if row.input_location is None else await asyncio.to_thread(self._read, row)
            )
            result = await self.runtime.invoke(
                Invocation(
                    endpoint=row.endpoint_name,
                    body=body or b"",
                    content_type=row.content_type,
                    accept=row.accept,
                    custom_attributes=row.custom_attributes,
                    inference_id=row.inference_id,
                    max_bytes=MAX_INPUT_BYTES,
                    timeout=float(row.invocation_timeout),
                )
            )
        except ServiceUnavailable:
            await asyncio.to_thread(self._retry_later, row_id)
            return
        except LakeworksError as exc:
            if self._endpoint_between_states(row.endpoint_name):
                await asyncio.to_thread(self._retry_later, row_id)
                return
            await asyncio.to_thread(self._finish, row_id, None, exc.message)
            return
        await asyncio.to_thread(self._finish, row_id, (result.body, result.content_type), None)

    def _endpoint_between_states(self, endpoint: str) -> bool:
        """Whether the endpoint exists but is not serving for now (keep its requests queued)."""
        table = self.runtime.tables.get(endpoint)
        return (
            table is not None
            and table.status in ("Creating", "Updating")
            and (endpoint in self.engine.views)
        )

    def _read(self, row: AsyncInvocationRecord) -> bytes:
        ctx = RequestContext(principal=row.principal, scopes=frozenset(row.scopes))
        with tempfile.TemporaryDirectory(prefix="lakeworks-async-") as tmp:
            path = Path(tmp) / "input"
            try:
                self.lake.download(ctx, row.input_location or "", path)
                return path.read_bytes()
            except NotFound:
                raise ValidationError(
                    f"The input at {row.input_location} no longer exists",
                    aws_code="ValidationError",
                ) from None
            except OSError as exc:
                raise ValidationError(
                    f"Cannot read the input at {row.input_location}: {exc}",
                    aws_code="ValidationError",
                ) from None

    def _retry_later(self, row_id: str) -> None:
        with self.db.session() as session:
            row = session.get(AsyncInvocationRecord, row_id)
            if row is not None and row.status == "InProgress":
                row.status = "Pending"
        if self._loop is not None:
            self._not_before[row_id] = self._loop.time() + _RETRY_SECONDS

    def _owner(self, endpoint: str) -> RequestContext:
        view = self.engine.views.get(endpoint)
        return view.ctx if view is not None else RequestContext.system()

    def _put(self, ctx: RequestContext, uri: str, data: bytes, content_type: str) -> None:
        bucket, key = parse_s3_uri(uri)
        self.lake.put_object(ctx, bucket, key, io.BytesIO(data), content_type=content_type)

    def _finish(self, row_id: str, result: tuple[bytes, str] | None, reason: str | None) -> None:
        """Write the output (or the failure), record the outcome, queue the notification."""
        with self.db.session() as session:
            row = session.get(AsyncInvocationRecord, row_id)
            if row is None:
                return
            session.expunge(row)
        owner = self._owner(row.endpoint_name)
        content_type = None
        try:
            if result is not None:
                body, content_type = result
                self._put(owner, row.output_location, body, content_type)
            else:
                self._put(owner, row.failure_location, (reason or "").encode(), "text/plain")
        except LakeworksError as exc:
            where = row.output_location if result is not None else row.failure_location
            reason = f"Cannot write {where}: {exc.message}"
            result = None
        now = self.clock()
        with self.db.session() as session:
            stored = session.get(AsyncInvocationRecord, row_id)
            if stored is None:
                return
            stored.status = "Completed" if result is not None else "Failed"
            stored.failure_reason = reason[:_REASON_LIMIT] if reason else None
            stored.completed_time = now
            stored.body = None
            session.flush()
            message = sns_message(
                stored, self.settings.aws.region, content_type=content_type, now=now
            )
            status = stored.status
        self._notify(row.endpoint_name, status, message)

    def _notify(self, endpoint: str, status: str, message: dict[str, Any]) -> None:
        if self.notifications is None:
            return
        with self.db.session() as session:
            record = session.get(EndpointRecord, endpoint)
            config = record.async_inference if record is not None else None
        notification = ((config or {}).get("output_config") or {}).get("notification_config")
        topic = (notification or {}).get(
            "success_topic" if status == "Completed" else "error_topic"
        )
        if topic and topic.startswith(("http://", "https://")):
            self.notifications.enqueue("webhook", topic, message, _WEBHOOK_ATTEMPTS)

    # -- reading the queue ----------------------------------------------------------------------

    def backlog(self, endpoint: str) -> int:
        """Requests of ``endpoint`` queued or in progress (``ApproximateBacklogSize``)."""
        with self.db.session() as session:
            return store.async_backlog(session, endpoint)

    def describe(self, ctx: RequestContext, inference_id: str) -> AsyncInvocationInfo:
        """The newest async invocation with this InferenceId.

        Raises:
            NotFound: None has that id.
        """
        ctx.require("read")
        with self.db.session() as session:
            row = session.scalars(
                select(AsyncInvocationRecord)
                .where(AsyncInvocationRecord.inference_id == inference_id)
                .order_by(AsyncInvocationRecord.received_time.desc())
                .limit(1)
            ).first()
            if row is None:
                raise NotFound(f"No async invocation has InferenceId {inference_id!r}")
            return AsyncInvocationInfo(
                inference_id=row.inference_id,
                endpoint_name=row.endpoint_name,
                status=row.status,
                output_location=row.output_location,
                failure_location=row.failure_location,
                failure_reason=row.failure_reason,
                attempts=row.attempts,
                received_time=row.received_time,
                completed_time=row.completed_time,
            )
