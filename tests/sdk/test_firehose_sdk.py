"""Delivery streams through the native SDK and REST API (in-process server)."""

from __future__ import annotations

import pytest

from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer


def test_create_put_flush_and_read_back(client: Client) -> None:
    client.buckets.create("sdk-stream")
    stream = client.delivery_streams.create(
        "sdk-stream",
        "sdk-stream",
        prefix="in/",
        buffering_hints={"size_in_mbs": 1, "interval_in_seconds": 900},
    )
    assert stream.delivery_stream_status == "ACTIVE"
    ids = client.delivery_streams.put("sdk-stream", [f"{i}\n".encode() for i in range(1200)])
    assert len(ids) == len(set(ids)) == 1200
    held = client.delivery_streams.get("sdk-stream")
    assert held.records_acknowledged == 1200
    assert held.records_delivered == 0  # a 900 s interval: still buffered
    flushed = client.delivery_streams.flush("sdk-stream")
    assert flushed.records_delivered == 1200
    (obj,) = client.objects.list("sdk-stream", prefix="in/")
    assert client.objects.get("sdk-stream", obj.key) == b"".join(
        f"{i}\n".encode() for i in range(1200)
    )
    assert [s.delivery_stream_name for s in client.delivery_streams.list()] == ["sdk-stream"]
    client.delivery_streams.delete("sdk-stream")
    with pytest.raises(NotFound):
        client.delivery_streams.get("sdk-stream")


def test_bad_input(client: Client, server: InProcessServer) -> None:
    client.buckets.create("sdk-bad")
    client.delivery_streams.create("bad", "sdk-bad")
    with pytest.raises(AlreadyExists):
        client.delivery_streams.create("bad", "sdk-bad")
    with pytest.raises(ValidationError, match="less than or equal to 1024000"):
        client.delivery_streams.put("bad", [b"x" * 1_024_001])
    with pytest.raises(ValidationError, match="ErrorOutputPrefix"):
        client.delivery_streams.create("bad2", "sdk-bad", prefix="!{timestamp:yyyy}/")
    response = server.client.post("/api/v1/delivery-streams/bad/records", json={"records": []})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ValidationException"
