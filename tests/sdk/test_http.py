"""The SDK's HTTP seam: error mapping, connection failures, pagination, request validation."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest

from lakeworks.core import errors
from lakeworks.schemas.iam import TokenCreate
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.client import Client
from lakeworks.sdk.errors import ServerUnreachable

URL = "http://lakeworks.test"


def transport_answering(handler: Callable[[httpx.Request], httpx.Response]) -> Transport:
    return Transport(httpx.Client(transport=httpx.MockTransport(handler)), URL, "tok")


def native_error(status: int, type_: str, message: str, **details: object) -> httpx.Response:
    body = {
        "error": {
            "code": "Whatever",
            "type": type_,
            "message": message,
            "details": details,
            "request_id": "req-1",
        }
    }
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("status", "type_", "cls"),
    [
        (400, "ValidationError", errors.ValidationError),
        (401, "Unauthenticated", errors.Unauthenticated),
        (403, "AccessDenied", errors.AccessDenied),
        (404, "NotFound", errors.NotFound),
        (409, "AlreadyExists", errors.AlreadyExists),
        (409, "ResourceInUse", errors.ResourceInUse),
        (413, "PayloadTooLarge", errors.PayloadTooLarge),
        (416, "RangeNotSatisfiable", errors.RangeNotSatisfiable),
        (429, "ThrottlingException", errors.ThrottlingException),
    ],
)
def test_native_errors_come_back_as_the_same_class(
    status: int, type_: str, cls: type[errors.LakeworksError]
) -> None:
    transport = transport_answering(lambda _: native_error(status, type_, "it broke", field="x"))
    with pytest.raises(errors.LakeworksError) as caught:
        transport.request("GET", "/api/v1/anything")
    error = caught.value
    assert type(error) is cls
    assert error.status == status
    assert error.message == "it broke"
    assert error.details == {"field": "x"}
    assert error.aws_code == "Whatever"
    assert error.request_id == "req-1"  # type: ignore[attr-defined]


def test_an_unknown_error_type_keeps_the_status() -> None:
    transport = transport_answering(lambda _: native_error(405, "LakeworksError", "no"))
    with pytest.raises(errors.LakeworksError) as caught:
        transport.request("PATCH", "/api/v1/tokens")
    assert type(caught.value) is errors.LakeworksError
    assert caught.value.status == 405
    assert errors.LakeworksError.status == 500, "the class default is untouched"


def test_an_error_without_the_native_body_is_mapped_by_status() -> None:
    transport = transport_answering(lambda _: httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(errors.LakeworksError) as caught:
        transport.request("GET", "/api/v1/whoami")
    assert caught.value.status == 502
    assert "502" in caught.value.message
    assert "bad gateway" in caught.value.message


def test_a_bodiless_404_names_the_resource() -> None:
    transport = transport_answering(lambda _: httpx.Response(404))
    with pytest.raises(errors.NotFound) as caught:
        transport.request("HEAD", "/api/v1/buckets/b/objects/k", what="s3://b/k")
    assert caught.value.message.startswith("s3://b/k")


def test_the_token_is_sent_as_a_bearer_header() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={})

    transport_answering(handler).request("GET", "/api/v1/whoami")
    assert seen == ["Bearer tok"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_server_that_is_not_there_is_unreachable_with_its_url() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    client = Client(url, "tok", timeout=5)
    with pytest.raises(ServerUnreachable) as caught:
        client.whoami()
    assert url in caught.value.message
    assert "lakeworks server start" in caught.value.message
    assert isinstance(caught.value, ConnectionError)
    assert isinstance(caught.value, errors.LakeworksError)


def test_paginate_follows_next_tokens() -> None:
    pages = {None: ([1, 2], "a"), "a": ([3], "b"), "b": ([], None)}
    assert list(paginate(lambda token: pages[token])) == [1, 2, 3]


def test_request_body_validates_locally() -> None:
    body = request_body(TokenCreate, principal="carol", scopes=["write"])
    assert body == {"principal": "carol", "scopes": ["write"]}
    with pytest.raises(errors.ValidationError) as caught:
        request_body(TokenCreate, principal="carol", colour="blue")
    assert "colour" in caught.value.message
    assert caught.value.details["errors"][0]["type"] == "extra_forbidden"
