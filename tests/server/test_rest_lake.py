"""Buckets and objects over the native REST API (in process, and one real server process)."""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lakeworks.server.rest.lake import parse_range
from lakeworks.testing import InProcessServer, temporary_server
from lakeworks.testing.process import server_process

_names = itertools.count()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """One in-process server for the module."""
    with temporary_server(tmp_path_factory.mktemp("home")) as running:
        yield running


@pytest.fixture
def bucket(srv: InProcessServer) -> str:
    name = f"rest-{next(_names)}"
    assert srv.client.post("/api/v1/buckets", json={"name": name}).status_code == 201
    return name


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The native error body, after checking status and code."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert set(error) >= {"code", "type", "message", "details"}
    return error


def objects(srv: InProcessServer, bucket: str) -> str:
    return f"/api/v1/buckets/{bucket}/objects"


def test_bucket_routes(srv: InProcessServer) -> None:
    created = srv.client.post("/api/v1/buckets", json={"name": "rest-life", "tags": {"t": "1"}})
    assert created.status_code == 201
    assert created.json()["arn"] == "arn:aws:s3:::rest-life"
    assert srv.client.get("/api/v1/buckets/rest-life").json()["tags"] == {"t": "1"}
    names = [b["name"] for b in srv.client.get("/api/v1/buckets").json()["items"]]
    assert "rest-life" in names
    error_of(
        srv.client.post("/api/v1/buckets", json={"name": "rest-life"}),
        409,
        "BucketAlreadyOwnedByYou",
    )
    assert srv.client.delete("/api/v1/buckets/rest-life").status_code == 204
    error_of(srv.client.get("/api/v1/buckets/rest-life"), 404, "NoSuchBucket")
    error_of(srv.client.delete("/api/v1/buckets/rest-life"), 404, "NoSuchBucket")


@pytest.mark.parametrize(
    "payload",
    [{"name": "Bad_Name"}, {"name": "ok-name", "unknown": 1}, {}, {"name": "ok-name", "tags": 3}],
)
def test_bad_bucket_requests_are_400(srv: InProcessServer, payload: dict[str, Any]) -> None:
    response = srv.client.post("/api/v1/buckets", json=payload)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("InvalidBucketName", "ValidationException")
    error_of(srv.client.get("/api/v1/buckets/ok-name"), 404, "NoSuchBucket")


def test_object_round_trip(srv: InProcessServer, bucket: str) -> None:
    data = os.urandom(1024 * 1024 + 5)
    url = f"{objects(srv, bucket)}/dir/ünï code.bin"
    put = srv.client.put(
        url,
        content=data,
        headers={"Content-Type": "application/x-thing", "x-lakeworks-meta-Origin": "rest"},
    )
    assert put.status_code == 200, put.text
    info = put.json()
    assert info["etag"] == hashlib.md5(data).hexdigest()
    assert (info["key"], info["size"], info["metadata"]) == (
        "dir/ünï code.bin",
        len(data),
        {"origin": "rest"},
    )

    got = srv.client.get(url)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["etag"] == f'"{info["etag"]}"'
    assert got.headers["content-type"] == "application/x-thing"
    assert got.headers["content-length"] == str(len(data))
    assert got.headers["x-lakeworks-meta-origin"] == "rest"
    assert got.headers["last-modified"].endswith("GMT")

    head = srv.client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(data))
    assert head.headers["etag"] == got.headers["etag"]

    listing = srv.client.get(objects(srv, bucket), params={"prefix": "dir/"}).json()
    assert [i["key"] for i in listing["items"]] == ["dir/ünï code.bin"]

    assert srv.client.delete(url).status_code == 204
    assert srv.client.delete(url).status_code == 204
    error_of(srv.client.get(url), 404, "NoSuchKey")
    assert srv.client.head(url).status_code == 404


def test_awkward_keys_over_http(srv: InProcessServer, bucket: str) -> None:
    for key in ["a//b", "folder/", "q%3Fx%23y"]:
        assert (
            srv.client.put(f"{objects(srv, bucket)}/{key}", content=key.encode()).status_code == 200
        )
    listed = srv.client.get(objects(srv, bucket)).json()["items"]
    assert [i["key"] for i in listed] == ["a//b", "folder/", "q?x#y"]
    assert srv.client.get(f"{objects(srv, bucket)}/a//b").content == b"a//b"


def test_ranges(srv: InProcessServer, bucket: str) -> None:
    url = f"{objects(srv, bucket)}/digits"
    srv.client.put(url, content=b"0123456789")
    partial = srv.client.get(url, headers={"Range": "bytes=2-5"})
    assert partial.status_code == 206
    assert partial.content == b"2345"
    assert partial.headers["content-range"] == "bytes 2-5/10"
    assert partial.headers["content-length"] == "4"
    suffix = srv.client.get(url, headers={"Range": "bytes=-3"})
    assert (suffix.status_code, suffix.content) == (206, b"789")
    ignored = srv.client.get(url, headers={"Range": "bytes=5-2"})
    assert (ignored.status_code, ignored.content) == (200, b"0123456789")
    error = error_of(srv.client.get(url, headers={"Range": "bytes=10-"}), 416, "InvalidRange")
    assert error["details"]["size"] == 10


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", (0, 0)),
        ("bytes=5-", (5, None)),
        ("bytes=-7", (None, 7)),
        ("bytes=3-1", None),
        ("bytes=0-1,4-5", None),
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_parse_range(header: str | None, expected: object) -> None:
    assert parse_range(header) == expected


def test_listing_pages(srv: InProcessServer, bucket: str) -> None:
    for key in ["a/1", "a/2", "b", "c"]:
        srv.client.put(f"{objects(srv, bucket)}/{key}", content=b"-")
    first = srv.client.get(objects(srv, bucket), params={"max_keys": 2, "delimiter": "/"}).json()
    assert first["common_prefixes"] == ["a/"]
    assert [i["key"] for i in first["items"]] == ["b"]
    rest = srv.client.get(
        objects(srv, bucket), params={"delimiter": "/", "next_token": first["next_token"]}
    ).json()
    assert ([i["key"] for i in rest["items"]], rest["next_token"]) == (["c"], None)
    after = srv.client.get(objects(srv, bucket), params={"start_after": "a/2"}).json()
    assert [i["key"] for i in after["items"]] == ["b", "c"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"max_keys": 0}, "ValidationException"),
        ({"max_keys": 1001}, "ValidationException"),
        ({"max_keys": "many"}, "ValidationException"),
        ({"next_token": "garbage"}, "InvalidArgument"),
    ],
)
def test_bad_listing_arguments(
    srv: InProcessServer, bucket: str, params: dict[str, Any], code: str
) -> None:
    error_of(srv.client.get(objects(srv, bucket), params=params), 400, code)


@pytest.mark.parametrize("key", ["nul%00byte", "a/%2E%2E/b", "%2Fabsolute", "k" * 1025])
def test_bad_keys_are_400_and_nothing_is_written(
    srv: InProcessServer, bucket: str, key: str
) -> None:
    response = srv.client.put(f"{objects(srv, bucket)}/{key}", content=b"evil")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in ("InvalidArgument", "KeyTooLongError")
    assert srv.client.get(objects(srv, bucket)).json()["items"] == []


def test_missing_bucket_and_bad_metadata(srv: InProcessServer, bucket: str) -> None:
    error_of(
        srv.client.put("/api/v1/buckets/nope-nope/objects/k", content=b"v"), 404, "NoSuchBucket"
    )
    error_of(srv.client.get("/api/v1/buckets/nope-nope/objects"), 404, "NoSuchBucket")
    error_of(
        srv.client.put(
            f"{objects(srv, bucket)}/k", content=b"v", headers={"x-lakeworks-meta-x": "é".encode()}
        ),
        400,
        "InvalidArgument",
    )
    error_of(
        srv.client.put(f"{objects(srv, bucket)}/k", content=b"v", headers={"Content-MD5": "bad"}),
        400,
        "InvalidDigest",
    )
    assert srv.client.get(objects(srv, bucket)).json()["items"] == []


def test_credentials_and_scopes(srv: InProcessServer, bucket: str) -> None:
    url = f"{objects(srv, bucket)}/k"
    assert srv.client.put(url, content=b"v").status_code == 200
    for method in ("GET", "PUT", "DELETE", "HEAD"):
        response = srv.client.request(method, url, headers={"Authorization": ""})
        assert response.status_code == 401
    token = srv.client.post("/api/v1/tokens", json={"principal": "viewer", "scopes": ["read"]})
    reader = {"Authorization": f"Bearer {token.json()['token']}"}
    assert srv.client.get(url, headers=reader).content == b"v"
    error_of(srv.client.put(url, content=b"new", headers=reader), 403, "AccessDeniedException")
    error_of(srv.client.delete(url, headers=reader), 403, "AccessDeniedException")
    error_of(
        srv.client.post("/api/v1/buckets", json={"name": "viewer-b"}, headers=reader),
        403,
        "AccessDeniedException",
    )
    assert srv.client.get(url).content == b"v"


def test_object_size_limit(tmp_path: Path) -> None:
    with temporary_server(tmp_path / "home", server={"max_object_bytes": 1000}) as small:
        small.client.post("/api/v1/buckets", json={"name": "limited"})
        url = "/api/v1/buckets/limited/objects/big"
        error_of(small.client.put(url, content=b"x" * 1001), 413, "EntityTooLarge")

        def chunked() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            for _ in range(20):
                yield b"x" * 100

        error_of(small.client.put(url, content=chunked()), 413, "EntityTooLarge")
        assert small.client.get("/api/v1/buckets/limited/objects").json()["items"] == []
        assert list((small.settings.home / "tmp").iterdir()) == []
        assert small.client.put(url, content=b"x" * 1000).status_code == 200


@pytest.mark.slow
def test_streaming_through_a_real_server_process(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 11)
    with server_process(tmp_path / "home") as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            assert client.post("/api/v1/buckets", json={"name": "real"}).status_code == 201

            def chunks() -> Iterator[bytes]:
                for start in range(0, len(data), 256 * 1024):
                    yield data[start : start + 256 * 1024]

            put = client.put("/api/v1/buckets/real/objects/blob", content=chunks())
            assert put.status_code == 200, put.text
            assert put.json()["etag"] == hashlib.md5(data).hexdigest()
            with client.stream("GET", "/api/v1/buckets/real/objects/blob") as response:
                assert response.status_code == 200
                assert b"".join(response.iter_bytes()) == data
            tail = client.get("/api/v1/buckets/real/objects/blob", headers={"Range": "bytes=-11"})
            assert (tail.status_code, tail.content) == (206, data[-11:])
        lake_file = tmp_path / "home" / "lake" / "real" / "blob"
        assert lake_file.read_bytes() == data  # readable in place
