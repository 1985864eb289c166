"""Bucket policies through the front door, enforced on both faces (S3 and native REST) for the
same principals."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow

BUCKET = "guarded"


def _error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _admin(server: ServerProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token}"}


@pytest.fixture(scope="module")
def analyst(aws_server: ServerProcess, client: Callable[..., Any]) -> dict[str, Any]:
    """A read-only principal: an S3 client and a native bearer token."""
    created = httpx.post(
        f"{aws_server.url}/api/v1/access-keys",
        json={"principal": "analyst", "scopes": ["read"]},
        headers=_admin(aws_server),
    ).json()
    token = httpx.post(
        f"{aws_server.url}/api/v1/tokens",
        json={"principal": "analyst", "scopes": ["read"]},
        headers=_admin(aws_server),
    ).json()["token"]
    s3 = client("s3", key_id=created["access_key_id"], secret=created["secret_access_key"])
    return {"s3": s3, "headers": {"Authorization": f"Bearer {token}"}}


@pytest.fixture(scope="module")
def guarded(s3: Any) -> str:
    s3.create_bucket(Bucket=BUCKET)
    for key in ("reports/q1.csv", "private/salaries.csv", "drop/.keep"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"data")
    return BUCKET


POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AnalystDrops",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::000000000000:user/analyst"]},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/drop/*",
        },
        {
            "Sid": "NoPrivate",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/private/*",
        },
        {
            "Sid": "ListOnlyReports",
            "Effect": "Deny",
            "Principal": {"AWS": "analyst"},
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringNotLike": {"s3:prefix": ["reports/*"]}},
        },
    ],
}


def test_policy_round_trip_and_malformed_policies(s3: Any, guarded: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy(Bucket=guarded)
    assert _error(caught) == ("NoSuchBucketPolicy", 404)
    bad = [
        ("{", "valid JSON"),
        (
            json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            "Principal",
        ),
        (
            json.dumps({**POLICY, "Statement": [{**POLICY["Statement"][0], "Action": "s3:Fly"}]}),
            "action",
        ),
        (
            json.dumps(
                {
                    **POLICY,
                    "Statement": [{**POLICY["Statement"][0], "Resource": "arn:aws:s3:::other/*"}],
                }
            ),
            "resource",
        ),
    ]
    for document, reason in bad:
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_policy(Bucket=guarded, Policy=document)
        assert _error(caught) == ("MalformedPolicy", 400)
        assert reason in caught.value.response["Error"]["Message"]
    text = json.dumps(POLICY)
    s3.put_bucket_policy(Bucket=guarded, Policy=text)
    assert json.loads(s3.get_bucket_policy(Bucket=guarded)["Policy"]) == POLICY


def test_policy_is_enforced_on_the_s3_face(s3: Any, analyst: dict[str, Any], guarded: str) -> None:
    s3.put_bucket_policy(Bucket=guarded, Policy=json.dumps(POLICY))
    them = analyst["s3"]
    # Allow grants what the read scope does not: writing into drop/
    them.put_object(Bucket=guarded, Key="drop/upload.csv", Body=b"mine")
    with pytest.raises(ClientError) as caught:
        them.put_object(Bucket=guarded, Key="reports/q2.csv", Body=b"no")
    assert _error(caught) == ("AccessDenied", 403)
    # the explicit Deny wins, even for the admin
    for caller in (them, s3):
        with pytest.raises(ClientError) as caught:
            caller.get_object(Bucket=guarded, Key="private/salaries.csv")
        assert _error(caught) == ("AccessDenied", 403)
    assert them.get_object(Bucket=guarded, Key="reports/q1.csv")["Body"].read() == b"data"
    # listing is allowed only under reports/ for the analyst
    keys = [o["Key"] for o in them.list_objects_v2(Bucket=guarded, Prefix="reports/")["Contents"]]
    assert keys == ["reports/q1.csv"]
    with pytest.raises(ClientError) as caught:
        them.list_objects_v2(Bucket=guarded)
    assert _error(caught) == ("AccessDenied", 403)
    assert len(s3.list_objects_v2(Bucket=guarded)["Contents"]) >= 3  # the admin is not limited
    # the analyst may not change the policy; the admin (owner) always may
    with pytest.raises(ClientError) as caught:
        them.delete_bucket_policy(Bucket=guarded)
    assert _error(caught) == ("AccessDenied", 403)


def test_policy_is_enforced_on_the_native_face(
    aws_server: ServerProcess, s3: Any, analyst: dict[str, Any], guarded: str
) -> None:
    s3.put_bucket_policy(Bucket=guarded, Policy=json.dumps(POLICY))
    objects = f"{aws_server.url}/api/v1/buckets/{guarded}/objects"
    headers = analyst["headers"]
    assert httpx.put(f"{objects}/drop/native.csv", content=b"x", headers=headers).status_code == 200
    refused = httpx.put(f"{objects}/elsewhere.csv", content=b"x", headers=headers)
    assert refused.status_code == 403
    private = httpx.get(f"{objects}/private/salaries.csv", headers=_admin(aws_server))
    assert private.status_code == 403
    assert private.json()["error"]["code"] == "AccessDenied"
    assert "NoPrivate" in private.json()["error"]["message"]
    listing = httpx.get(objects, params={"prefix": "private/"}, headers=headers)
    assert listing.status_code == 403


def test_deleting_the_policy_restores_scopes(
    s3: Any, analyst: dict[str, Any], guarded: str
) -> None:
    s3.put_bucket_policy(Bucket=guarded, Policy=json.dumps(POLICY))
    s3.delete_bucket_policy(Bucket=guarded)
    assert s3.get_object(Bucket=guarded, Key="private/salaries.csv")["Body"].read() == b"data"
    with pytest.raises(ClientError) as caught:
        analyst["s3"].put_object(Bucket=guarded, Key="drop/again.csv", Body=b"x")
    assert _error(caught) == ("AccessDenied", 403)
