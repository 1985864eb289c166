"""Bucket notifications: ``client.buckets.notifications`` — the configuration and the
delivery history.

Example::

    c.buckets.notifications.put("data", webhook_configurations=[
        {"url": "https://hooks.example.com/lake", "events": ["s3:ObjectCreated:*"],
         "filter_rules": [{"name": "suffix", "value": ".csv"}]}])
    for delivery in c.buckets.notifications.deliveries("data", status="Failed"):
        print(delivery.target, delivery.attempts, delivery.last_error)

Webhooks (a Lakeworks extension) get the S3 event JSON by POST, retried with backoff; function
targets are invoked asynchronously. Each method is one route of
``server/rest/notifications.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.notifications import (
    DeliveryInfo,
    DeliveryStatus,
    NotificationConfiguration,
)
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.lake import _bucket_path

__all__ = ["BucketNotifications"]


class BucketNotifications:
    """A bucket's notification configuration (``get``, ``put``, ``clear``) and its deliveries."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get(self, bucket: str) -> NotificationConfiguration:
        """The configuration (empty lists when none is set).

        Raises:
            NotFound: No such bucket.
        """
        path = f"{_bucket_path(bucket)}/notifications"
        return self._t.model(NotificationConfiguration, "GET", path)

    def put(
        self,
        bucket: str,
        config: NotificationConfiguration | Mapping[str, Any] | None = None,
        *,
        webhook_configurations: Sequence[Mapping[str, Any]] | None = None,
        lambda_function_configurations: Sequence[Mapping[str, Any]] | None = None,
    ) -> NotificationConfiguration:
        """Replace the configuration as a whole (what is not given is removed).

        Args:
            bucket: The bucket.
            config: A whole configuration, or give its lists as keyword arguments.
            webhook_configurations: ``[{"url", "events", "filter_rules"?, "id"?}]``.
            lambda_function_configurations: ``[{"lambda_function_arn", "events", ...}]``.

        Returns:
            The stored configuration.

        Raises:
            NotFound: No such bucket, or a target function that does not exist.
            ValidationError: A bad URL, unknown event name or bad filter (the message says
                which and what is allowed).
        """
        fields: dict[str, Any] = {}
        if webhook_configurations is not None:
            fields["webhook_configurations"] = [dict(item) for item in webhook_configurations]
        if lambda_function_configurations is not None:
            fields["lambda_function_configurations"] = [
                dict(item) for item in lambda_function_configurations
            ]
        body = request_body(NotificationConfiguration, config, **fields)
        path = f"{_bucket_path(bucket)}/notifications"
        return self._t.model(NotificationConfiguration, "PUT", path, json=body)

    def clear(self, bucket: str) -> None:
        """Remove every notification target of the bucket."""
        self.put(bucket, {})

    def deliveries_page(
        self,
        bucket: str,
        *,
        status: DeliveryStatus | None = None,
        target: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> Page[DeliveryInfo]:
        """One page of the bucket's deliveries, newest first.

        Raises:
            NotFound: No such bucket.
            ValidationError: An unknown status, a bad page size or token.
        """
        params = {
            "status": status,
            "target": target,
            "max_results": max_results,
            "next_token": next_token,
        }
        path = f"{_bucket_path(bucket)}/deliveries"
        return self._t.model(Page[DeliveryInfo], "GET", path, params=params)

    def deliveries(
        self, bucket: str, *, status: DeliveryStatus | None = None, target: str | None = None
    ) -> Iterator[DeliveryInfo]:
        """Iterate over the bucket's deliveries, newest first: event, target, status
        (Pending, Delivered or Failed), attempts, last error and each attempt's outcome."""

        def page(token: str | None) -> tuple[list[DeliveryInfo], str | None]:
            got = self.deliveries_page(bucket, status=status, target=target, next_token=token)
            return got.items, got.next_token

        return paginate(page)

    def delivery(self, bucket: str, delivery_id: str) -> DeliveryInfo:
        """One delivery of the bucket's events.

        Raises:
            NotFound: No such bucket or delivery.
        """
        path = f"{_bucket_path(bucket)}/deliveries/{quote(delivery_id, safe='')}"
        return self._t.model(DeliveryInfo, "GET", path)
