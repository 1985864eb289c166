"""``client.buckets.notifications``: webhook targets on the native API and the delivery history,
against the in-process server and a real HTTP server receiving the events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from tests.lake.webhook_support import Hook, closed_port_url, running_hook

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.schemas.notifications import DeliveryInfo, NotificationConfiguration
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer

CREATED = ["s3:ObjectCreated:*"]


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A local webhook receiver."""
    with running_hook() as running:
        yield running


def eventually(
    get: Callable[[], list[DeliveryInfo]], done: Callable[[list[DeliveryInfo]], bool]
) -> list[DeliveryInfo]:
    """Poll the history until ``done`` (a deadline keeps a broken worker from hanging the test)."""
    deadline = time.monotonic() + 60
    while True:
        got = get()
        if done(got):
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.05)


def test_webhook_receives_the_event_and_history_shows_delivered(
    lake_client: Client, hook: Hook
) -> None:
    c = lake_client
    c.buckets.create("hooked")
    stored = c.buckets.notifications.put(
        "hooked",
        webhook_configurations=[
            {
                "id": "csv",
                "url": hook.url,
                "events": CREATED,
                "filter_rules": [{"name": "suffix", "value": ".csv"}],
            }
        ],
    )
    assert stored.webhook_configurations[0].url == hook.url
    assert c.buckets.notifications.get("hooked") == stored
    c.objects.put("hooked", "data/a.csv", b"x,y\n1,2\n")
    c.objects.put("hooked", "data/skip.txt", b"not matched")

    def history() -> list[DeliveryInfo]:
        return list(c.buckets.notifications.deliveries("hooked"))

    done = eventually(history, lambda got: [d.status for d in got] == ["Delivered"])
    delivery = done[0]
    assert (delivery.target_type, delivery.target, delivery.attempts) == ("webhook", hook.url, 1)
    assert delivery.last_error is None
    assert [h["outcome"] for h in delivery.history] == ["Delivered"]
    record = hook.received[0]["Records"][0]
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == "hooked"
    assert record["s3"]["object"]["key"] == "data/a.csv"
    assert record["s3"]["configurationId"] == "csv"
    assert c.buckets.notifications.delivery("hooked", delivery.delivery_id) == delivery
    assert list(c.buckets.notifications.deliveries("hooked", status="Failed")) == []


def test_unreachable_webhook_is_retried_then_failed(lake_client: Client) -> None:
    c = lake_client
    c.buckets.create("unreachable")
    url = closed_port_url()
    c.buckets.notifications.put(
        "unreachable", {"webhook_configurations": [{"url": url, "events": CREATED}]}
    )
    # The upload answers while its delivery is still queued: it neither waits for nor fails
    # with the webhook.
    info = c.objects.put("unreachable", "a.bin", b"payload")
    assert info.size == 7
    assert c.objects.get("unreachable", "a.bin") == b"payload"
    pending = c.buckets.notifications.deliveries_page("unreachable").items
    assert [d.status for d in pending] == ["Pending"]
    assert pending[0].attempts < pending[0].max_attempts

    def history() -> list[DeliveryInfo]:
        return list(c.buckets.notifications.deliveries("unreachable", target=url))

    failed = eventually(history, lambda got: bool(got) and got[0].status == "Failed")[0]
    assert failed.attempts == failed.max_attempts == 4
    assert [h["outcome"] for h in failed.history] == ["Failed"] * 4
    assert failed.last_error
    assert failed.next_attempt_time is None
    only_failed = c.buckets.notifications.deliveries("unreachable", status="Failed")
    assert [d.delivery_id for d in only_failed] == [failed.delivery_id]
    assert list(c.buckets.notifications.deliveries("unreachable", target="http://other/")) == []


def test_history_pages(lake_client: Client, hook: Hook) -> None:
    c = lake_client
    c.buckets.create("paged")
    targets = [{"url": hook.url, "events": CREATED}]
    c.buckets.notifications.put("paged", webhook_configurations=targets)
    for index in range(5):
        c.objects.put("paged", f"k{index}", b"x")
    first = c.buckets.notifications.deliveries_page("paged", max_results=2)
    assert len(first.items) == 2
    assert first.next_token
    second = c.buckets.notifications.deliveries_page(
        "paged", max_results=2, next_token=first.next_token
    )
    every = list(c.buckets.notifications.deliveries("paged"))
    assert [d.delivery_id for d in every[:4]] == [d.delivery_id for d in first.items + second.items]
    assert len({d.delivery_id for d in every}) == 5
    keys = [d.payload["Records"][0]["s3"]["object"]["key"] for d in every]
    assert sorted(keys) == [f"k{i}" for i in range(5)]
    with pytest.raises(ValidationError, match="next_token"):
        c.buckets.notifications.deliveries_page("paged", next_token="bm90LWEtdG9rZW4=")
    with pytest.raises(ValidationError, match="max_results"):
        c.buckets.notifications.deliveries_page("paged", max_results=0)


def test_bad_configurations_and_unknown_things(
    lake_client: Client, server: InProcessServer
) -> None:
    c = lake_client
    c.buckets.create("strict")
    path = "/api/v1/buckets/strict/notifications"
    for url, says in (("ftp://host/x", "https?://"), ("http://", "absolute http:// or https://")):
        body = {"webhook_configurations": [{"url": url, "events": CREATED}]}
        response = server.client.put(path, json=body)
        assert response.status_code == 400, response.text
        assert says in response.json()["error"]["message"]
    with pytest.raises(ValidationError, match="http:// or https://"):
        c.buckets.notifications.put(
            "strict", webhook_configurations=[{"url": "https:// spaced", "events": CREATED}]
        )
    with pytest.raises(ValidationError, match="s3:ObjectCreated"):
        c.buckets.notifications.put(
            "strict", webhook_configurations=[{"url": "http://h/", "events": ["s3:Nope"]}]
        )
    assert c.buckets.notifications.get("strict").webhook_configurations == []
    bad_status = server.client.get("/api/v1/buckets/strict/deliveries", params={"status": "Lost"})
    assert bad_status.status_code == 400
    assert "Pending" in bad_status.json()["error"]["message"]
    with pytest.raises(NotFound, match="no-such-bucket"):
        c.buckets.notifications.get("no-such-bucket")
    with pytest.raises(NotFound, match="no-such-bucket"):
        list(c.buckets.notifications.deliveries("no-such-bucket"))
    with pytest.raises(NotFound, match="0000"):
        c.buckets.notifications.delivery("strict", "0000")


def test_clear_removes_the_targets(lake_client: Client, hook: Hook) -> None:
    c = lake_client
    c.buckets.create("cleared")
    targets = [{"url": hook.url, "events": CREATED}]
    c.buckets.notifications.put("cleared", webhook_configurations=targets)
    c.buckets.notifications.clear("cleared")
    assert c.buckets.notifications.get("cleared").webhook_configurations == []
    c.objects.put("cleared", "k", b"x")
    assert list(c.buckets.notifications.deliveries("cleared")) == []


def test_the_s3_face_replaces_function_targets_but_keeps_webhooks(
    lake_client: Client, server: InProcessServer, hook: Hook
) -> None:
    c = lake_client
    c.buckets.create("mixed")
    c.buckets.notifications.put(
        "mixed", webhook_configurations=[{"url": hook.url, "events": CREATED}]
    )
    # What PutBucketNotificationConfiguration does with an S3 document (no webhooks in it).
    server.platform.notifications.put_configuration(
        RequestContext.system(), "mixed", NotificationConfiguration(), keep_webhooks=True
    )
    kept = c.buckets.notifications.get("mixed")
    assert [w.url for w in kept.webhook_configurations] == [hook.url]
    # The native API still replaces the whole configuration.
    c.buckets.notifications.put("mixed")
    assert c.buckets.notifications.get("mixed").webhook_configurations == []
