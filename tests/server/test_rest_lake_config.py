"""Versions, tags, encryption, policies, conditions and lifecycle over the native REST API."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lakeworks.testing import InProcessServer, temporary_server

_names = itertools.count()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with temporary_server(tmp_path_factory.mktemp("home")) as running:
        yield running


@pytest.fixture
def bucket(srv: InProcessServer) -> str:
    name = f"conf-{next(_names)}"
    assert srv.client.post("/api/v1/buckets", json={"name": name}).status_code == 201
    return name


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


def token_for(srv: InProcessServer, principal: str, scopes: list[str]) -> dict[str, str]:
    created = srv.client.post("/api/v1/tokens", json={"principal": principal, "scopes": scopes})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['token']}"}


def test_versions_and_delete_markers(srv: InProcessServer, bucket: str) -> None:
    base = f"/api/v1/buckets/{bucket}"
    assert srv.client.get(f"{base}/versioning").json() == {"status": None}
    error_of(srv.client.put(f"{base}/versioning", json={"status": "On"}), 400, "MalformedXML")
    assert (
        srv.client.put(f"{base}/versioning", json={"status": "Enabled"}).json()["status"]
        == "Enabled"
    )
    v1 = srv.client.put(f"{base}/objects/doc", content=b"one").json()["version_id"]
    put = srv.client.put(f"{base}/objects/doc", content=b"two")
    v2 = put.json()["version_id"]
    assert v1
    assert v2
    assert v1 != v2
    old = srv.client.get(f"{base}/objects/doc", params={"version_id": v1})
    assert (old.content, old.headers["x-lakeworks-version-id"]) == (b"one", v1)
    deleted = srv.client.delete(f"{base}/objects/doc")
    assert deleted.status_code == 204
    assert deleted.headers["x-lakeworks-delete-marker"] == "true"
    error = error_of(srv.client.get(f"{base}/objects/doc"), 404, "NoSuchKey")
    assert error["details"]["delete_marker"] is True
    error_of(
        srv.client.get(f"{base}/objects/doc", params={"version_id": "0123456789abcdef"}),
        404,
        "NoSuchVersion",
    )
    listing = srv.client.get(f"{base}/versions", params={"max_keys": 2}).json()
    assert [v["delete_marker"] for v in listing["versions"]] == [True, False]
    assert listing["is_truncated"]
    assert listing["next_key_marker"] == "doc"
    rest = srv.client.get(
        f"{base}/versions",
        params={"key_marker": "doc", "version_id_marker": listing["next_version_id_marker"]},
    ).json()
    assert [v["version_id"] for v in rest["versions"]] == [v1]


def test_conditions_tags_and_encryption_on_objects(srv: InProcessServer, bucket: str) -> None:
    url = f"/api/v1/buckets/{bucket}/objects/report.csv"
    headers = {
        "x-lakeworks-tagging": "team=ml&stage=raw",
        "x-lakeworks-server-side-encryption": "AES256",
    }
    created = srv.client.put(url, content=b"a,b\n1,2\n", headers={**headers, "If-None-Match": "*"})
    assert created.status_code == 200, created.text
    info = created.json()
    assert info["server_side_encryption"] == "AES256"
    error_of(
        srv.client.put(url, content=b"again", headers={"If-None-Match": "*"}),
        412,
        "PreconditionFailed",
    )
    got = srv.client.get(url, headers={"If-None-Match": f'"{info["etag"]}"'})
    assert got.status_code == 304
    assert got.content == b""
    got = srv.client.get(url)
    assert got.headers["x-lakeworks-server-side-encryption"] == "AES256"
    assert got.headers["x-lakeworks-tagging-count"] == "2"
    tags = srv.client.get(f"/api/v1/buckets/{bucket}/tagging/report.csv").json()
    assert tags["tags"] == {"team": "ml", "stage": "raw"}
    error_of(
        srv.client.put(
            f"/api/v1/buckets/{bucket}/tagging/report.csv", json={"tags": {"aws:x": "1"}}
        ),
        400,
        "InvalidTag",
    )
    error_of(
        srv.client.put(
            url.replace("report", "bad"), content=b"x", headers={"x-lakeworks-tagging": "a=1&a=2"}
        ),
        400,
        "InvalidTag",
    )
    assert srv.client.get(url.replace("report", "bad")).status_code == 404  # nothing written


def test_bucket_configuration(srv: InProcessServer, bucket: str) -> None:
    base = f"/api/v1/buckets/{bucket}"
    error_of(
        srv.client.get(f"{base}/encryption"), 404, "ServerSideEncryptionConfigurationNotFoundError"
    )
    error_of(
        srv.client.put(f"{base}/encryption", json={"algorithm": "ROT13"}), 400, "InvalidArgument"
    )
    kms = {"algorithm": "aws:kms", "kms_key_id": "team-key"}
    assert srv.client.put(f"{base}/encryption", json=kms).json()["kms_key_id"] == "team-key"
    assert srv.client.put(f"{base}/objects/k", content=b"v").json()["kms_key_id"] == "team-key"
    assert srv.client.delete(f"{base}/encryption").status_code == 204

    error_of(srv.client.get(f"{base}/tags"), 404, "NoSuchTagSet")
    assert srv.client.put(f"{base}/tags", json={"tags": {"a": "b"}}).json()["tags"] == {"a": "b"}
    assert srv.client.delete(f"{base}/tags").status_code == 204

    error_of(srv.client.get(f"{base}/lifecycle"), 404, "NoSuchLifecycleConfiguration")
    error_of(
        srv.client.put(f"{base}/lifecycle", json={"rules": [{"expiration": {"days": 0}}]}),
        400,
        "InvalidArgument",
    )
    rules = {"rules": [{"id": "r", "noncurrent_version_expiration": {"noncurrent_days": 7}}]}
    assert srv.client.put(f"{base}/lifecycle", json=rules).status_code == 200
    assert srv.client.get(f"{base}/lifecycle").json()["rules"][0]["id"] == "r"
    assert srv.client.post("/api/v1/lifecycle/runs").json()["expired_versions"] == 0


def test_policies_on_the_native_face(srv: InProcessServer, bucket: str) -> None:
    base = f"/api/v1/buckets/{bucket}"
    reader = token_for(srv, "policy-reader", ["read"])
    error_of(
        srv.client.put(f"{base}/objects/inbox/a", content=b"x", headers=reader),
        403,
        "AccessDeniedException",
    )
    bad = srv.client.put(f"{base}/policy", json={"policy": '{"Statement": ['})
    assert "valid JSON" in error_of(bad, 400, "MalformedPolicy")["message"]
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Inbox",
                "Effect": "Allow",
                "Principal": {"AWS": ["policy-reader"]},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/inbox/*",
            },
            {
                "Sid": "Sealed",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/sealed/*",
            },
        ],
    }
    assert srv.client.put(f"{base}/policy", json={"policy": document}).status_code == 200
    assert json.loads(srv.client.get(f"{base}/policy").json()["policy"]) == document
    assert (
        srv.client.put(f"{base}/objects/inbox/a", content=b"x", headers=reader).status_code == 200
    )
    error_of(
        srv.client.put(f"{base}/objects/outbox/a", content=b"x", headers=reader),
        403,
        "AccessDeniedException",
    )
    srv.client.put(f"{base}/objects/sealed/s", content=b"x")
    denied = error_of(srv.client.get(f"{base}/objects/sealed/s"), 403, "AccessDenied")
    assert "Sealed" in denied["message"]
    error_of(srv.client.delete(f"{base}/policy", headers=reader), 403, "AccessDeniedException")
    error_of(
        srv.client.post("/api/v1/lifecycle/runs", headers=reader), 403, "AccessDeniedException"
    )
    assert srv.client.delete(f"{base}/policy").status_code == 204
    error_of(srv.client.get(f"{base}/policy"), 404, "NoSuchBucketPolicy")
