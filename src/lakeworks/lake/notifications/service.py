"""Bucket notifications: store a bucket's configuration, turn object events into queued
deliveries, and show the delivery history.

The lake calls :meth:`NotificationService.on_object_event` (a listener on
:class:`~lakeworks.lake.service.LakeService`) inside the request that created or removed the
object; matching deliveries are written to the database before that request answers, and a
:class:`~lakeworks.lake.notifications.delivery.DeliveryWorker` sends them. Target types other
than ``webhook`` (``function``) get their sender and existence check from the domains above
the lake via :meth:`register_target`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.lake.events import ObjectEvent, check_events, check_filter, matches, s3_event
from lakeworks.lake.notifications import store
from lakeworks.lake.notifications.delivery import DeliveryWorker, Sender
from lakeworks.lake.objects import decode_token, encode_token
from lakeworks.lake.service import LakeService
from lakeworks.schemas.common import Page
from lakeworks.schemas.notifications import DeliveryInfo, DeliveryStatus, NotificationConfiguration

__all__ = ["NotificationService", "check_webhook_url", "function_name_of"]

log = logging.getLogger("lakeworks.lake.notifications")

#: Deliveries of one event to a webhook: the first try and retries with backoff.
WEBHOOK_ATTEMPTS = 4
#: S3 → Lambda is an asynchronous invocation: the first try and two retries, as Lambda does.
FUNCTION_ATTEMPTS = 3
_WEBHOOK_TIMEOUT = 10.0
#: The most deliveries one page of the history holds.
_MAX_PAGE = 1000


def function_name_of(arn_or_name: str) -> str:
    """The function name in a Lambda ARN (``arn:aws:lambda:r:a:function:name[:qualifier]``)."""
    if arn_or_name.startswith("arn:"):
        parts = arn_or_name.split(":")
        if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
            return parts[6]
        raise ValidationError(
            f"{arn_or_name!r} is not a Lambda function ARN "
            "(arn:aws:lambda:<region>:<account>:function:<name>)",
            aws_code="InvalidArgument",
        )
    return arn_or_name


def _send_webhook(url: str, payload: dict[str, Any]) -> None:
    response = httpx.post(url, json=payload, timeout=_WEBHOOK_TIMEOUT)
    if response.status_code >= 300:
        raise RuntimeError(f"{url} answered HTTP {response.status_code}")


class NotificationService:
    """Bucket notification configurations and the delivery queue.

    Args:
        settings: The settings tree (region).
        db: The metadata database.
        lake: The lake (bucket access checks; this service registers itself as its listener).
        base_backoff: Seconds before the first retry of a failed delivery.
    """

    def __init__(
        self, settings: Settings, db: Database, lake: LakeService, *, base_backoff: float = 1.0
    ) -> None:
        self.settings = settings
        self.db = db
        self.lake = lake
        self.senders: dict[str, Sender] = {"webhook": _send_webhook}
        self.checkers: dict[str, Callable[[str], None]] = {}
        self.worker = DeliveryWorker(db, self.senders, base_backoff=base_backoff)
        lake.listeners.append(self.on_object_event)

    def register_target(
        self, target_type: str, sender: Sender, checker: Callable[[str], None]
    ) -> None:
        """Deliver ``target_type`` targets with ``sender``; ``checker`` raises for a missing one."""
        self.senders[target_type] = sender
        self.checkers[target_type] = checker

    def start(self) -> None:
        """Start delivering (pending deliveries of an earlier process included)."""
        self.worker.start()

    def close(self) -> None:
        """Stop delivering; what is pending stays queued."""
        self.worker.stop()

    # -- configuration --------------------------------------------------------------------------

    def put_configuration(
        self,
        ctx: RequestContext,
        bucket: str,
        config: NotificationConfiguration,
        *,
        keep_webhooks: bool = False,
    ) -> None:
        """Replace ``bucket``'s notification configuration (an empty one removes it).

        ``keep_webhooks`` keeps the webhook targets already set and ignores ``config``'s: S3's
        PutBucketNotificationConfiguration cannot express them, so it must not erase them.

        Raises:
            NotFound: No such bucket, or a target function that does not exist.
            ValidationError: Unknown event names, a bad filter or function ARN.
        """
        ctx.require("write")
        self.lake.describe_bucket(ctx, bucket)
        for item in config.lambda_function_configurations:
            check_events(item.events)
            check_filter(item.filter_rules)
            name = function_name_of(item.lambda_function_arn)
            checker = self.checkers.get("function")
            if checker is None:
                raise ValidationError("Functions are not available on this server")
            checker(name)
        for hook in config.webhook_configurations:
            check_webhook_url(hook.url)
            check_events(hook.events)
            check_filter(hook.filter_rules)
        with self.db.session() as session:
            row = session.get(store.NotificationConfigRecord, bucket)
            if keep_webhooks:
                kept = NotificationConfiguration.model_validate(row.config) if row else None
                config = config.model_copy(
                    update={"webhook_configurations": kept.webhook_configurations if kept else []}
                )
            data = config.model_dump(mode="json")
            if row is None:
                session.add(store.NotificationConfigRecord(bucket=bucket, config=data))
            else:
                row.config = data

    def get_configuration(self, ctx: RequestContext, bucket: str) -> NotificationConfiguration:
        """``bucket``'s notification configuration (empty when none was set).

        Raises:
            NotFound: No such bucket.
        """
        ctx.require("read")
        self.lake.describe_bucket(ctx, bucket)
        with self.db.session() as session:
            row = session.get(store.NotificationConfigRecord, bucket)
            data = dict(row.config) if row is not None else {}
        return NotificationConfiguration.model_validate(data)

    # -- events ----------------------------------------------------------------------------------

    def on_object_event(self, event: ObjectEvent, principal: str) -> None:
        """Queue a delivery per matching target (called by the lake inside the request)."""
        with self.db.session() as session:
            row = session.get(store.NotificationConfigRecord, event.bucket)
            data = dict(row.config) if row is not None else None
        if not data:
            return
        config = NotificationConfiguration.model_validate(data)
        region = self.settings.aws.region
        queued = False
        for item in config.lambda_function_configurations:
            if matches(event, item.events, item.filter_rules):
                doc = s3_event(event, region=region, configuration_id=item.id, principal=principal)
                name = function_name_of(item.lambda_function_arn)
                self.enqueue("function", name, doc, FUNCTION_ATTEMPTS, bucket=event.bucket)
                queued = True
        for hook in config.webhook_configurations:
            if matches(event, hook.events, hook.filter_rules):
                doc = s3_event(event, region=region, configuration_id=hook.id, principal=principal)
                self.enqueue("webhook", hook.url, doc, WEBHOOK_ATTEMPTS, bucket=event.bucket)
                queued = True
        if queued:
            self.worker.wake()

    def enqueue(
        self,
        target_type: str,
        target: str,
        payload: dict[str, Any],
        max_attempts: int,
        *,
        bucket: str | None = None,
    ) -> str:
        """Persist one delivery (sent by the worker, retried with backoff); its id."""
        now = utcnow()
        delivery_id = uuid.uuid4().hex
        with self.db.session() as session:
            session.add(
                store.DeliveryRecord(
                    delivery_id=delivery_id,
                    bucket=bucket,
                    target_type=target_type,
                    target=target,
                    payload=payload,
                    status="Pending",
                    attempts=0,
                    max_attempts=max_attempts,
                    next_attempt_time=now - timedelta(seconds=1),
                    creation_time=now,
                    last_error=None,
                    history=[],
                )
            )
        self.worker.wake()
        return delivery_id

    # -- history ---------------------------------------------------------------------------------

    def list_deliveries(
        self,
        ctx: RequestContext,
        *,
        bucket: str | None = None,
        target: str | None = None,
        status: DeliveryStatus | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> Page[DeliveryInfo]:
        """One page of deliveries, newest first: ``bucket``'s events, to ``target``, in
        ``status`` where given.

        Args:
            ctx: The caller.
            bucket: Only deliveries of this bucket's events (its read access is checked).
            target: Only deliveries to this URL or function name.
            status: Only ``Pending``, ``Delivered`` or ``Failed`` deliveries.
            max_results: Page size, 1 to 1000.
            next_token: The previous page's ``next_token``.

        Raises:
            NotFound: No such bucket.
            ValidationError: A bad page size or a token this service did not make.
        """
        ctx.require("read")
        if not 1 <= max_results <= _MAX_PAGE:
            raise ValidationError(f"max_results must be 1 to {_MAX_PAGE}, got {max_results}")
        if bucket is not None:
            self.lake.describe_bucket(ctx, bucket)
        after = _decode_after(next_token) if next_token else None
        with self.db.session() as session:
            rows = store.find_deliveries(
                session,
                bucket=bucket,
                target=target,
                status=status,
                after=after,
                limit=max_results + 1,
            )
            items = [_info(row) for row in rows[:max_results]]
        more = len(rows) > max_results
        token = encode_token(_after_state(items[-1])) if more else None
        return Page[DeliveryInfo](items=items, next_token=token)

    def describe_delivery(
        self, ctx: RequestContext, delivery_id: str, *, bucket: str | None = None
    ) -> DeliveryInfo:
        """One delivery (of ``bucket``'s events, when given).

        Raises:
            NotFound: No such delivery (of that bucket), or no such bucket.
        """
        ctx.require("read")
        if bucket is not None:
            self.lake.describe_bucket(ctx, bucket)
        with self.db.session() as session:
            row = session.get(store.DeliveryRecord, delivery_id)
            if row is None or (bucket is not None and row.bucket != bucket):
                where = f" of bucket {bucket!r}" if bucket is not None else ""
                raise NotFound(f"Delivery {delivery_id!r}{where} does not exist")
            return _info(row)


def _after_state(last: DeliveryInfo) -> dict[str, Any]:
    return {"t": last.creation_time.isoformat(), "id": last.delivery_id}


def _decode_after(token: str) -> tuple[datetime, str]:
    state = decode_token(token, "id")
    try:
        return datetime.fromisoformat(str(state.get("t"))), str(state["id"])
    except ValueError:
        raise ValidationError(
            "The next_token is not valid; pass back next_token from the previous page",
            details={"field": "next_token"},
        ) from None


def check_webhook_url(url: str) -> None:
    """Check that ``url`` is an absolute ``http(s)://`` URL with a host.

    Raises:
        ValidationError: It is not (the message says what is allowed).
    """
    try:
        parsed = httpx.URL(url)
        ok = parsed.scheme in ("http", "https") and bool(parsed.host)
    except (httpx.InvalidURL, ValueError):
        ok = False
    if not ok or any(c.isspace() for c in url):
        raise ValidationError(
            f"Webhook URL {url!r} is not valid: give an absolute http:// or https:// URL with a "
            "host, e.g. https://hooks.example.com/lake",
            details={"url": url},
        )


def _info(row: store.DeliveryRecord) -> DeliveryInfo:
    return DeliveryInfo(
        delivery_id=row.delivery_id,
        bucket=row.bucket,
        target_type=row.target_type,
        target=row.target,
        status=row.status,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        next_attempt_time=row.next_attempt_time,
        creation_time=row.creation_time,
        last_error=row.last_error,
        history=list(row.history),
        payload=dict(row.payload),
    )
