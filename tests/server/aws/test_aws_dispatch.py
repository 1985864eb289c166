"""Protocol dispatch, end to end: STS over awsquery, unknown services and operations in each
protocol's error shape, and the split between the native API and the front door."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from botocore.exceptions import ClientError

from lakeworks.server.aws import is_aws_request
from lakeworks.testing.process import ServerProcess

pytestmark = pytest.mark.slow


def _send(request: Any) -> httpx.Response:
    headers = {k: str(v) for k, v in request.headers.items()}
    return httpx.request(request.method, request.url, headers=headers, content=request.body)


def test_sts_get_caller_identity(client: Any) -> None:
    identity = client("sts").get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:user/admin"
    assert identity["UserId"] == "admin"


def test_sts_presigned_get_caller_identity(client: Any) -> None:
    # What Vault-style "prove who you are" tokens are made of; botocore signs it as a POST.
    url = client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=60)
    assert "X-Amz-Signature=" in url
    assert httpx.get(url).status_code == 403  # the method is signed too
    response = httpx.post(url)
    assert response.status_code == 200, response.text
    namespace = "{https://sts.amazonaws.com/doc/2011-06-15/}"
    root = ElementTree.fromstring(response.content)
    arn = root.findtext(f"{namespace}GetCallerIdentityResult/{namespace}Arn")
    assert arn == "arn:aws:iam::000000000000:user/admin"


def test_sts_with_an_unknown_key_is_invalid_client_token_id(client: Any) -> None:
    sts = client("sts", key_id="AKIAUNKNOWNUNKNOWN00", secret="y" * 40)
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(
    ("form", "code"),
    [
        (b"Action=AssumeRole&Version=2011-06-15", "InvalidAction"),
        (b"Version=2011-06-15", "MissingAction"),
    ],
)
def test_sts_unknown_or_missing_action_in_query_error_shape(
    aws_server: ServerProcess, sign: Any, form: bytes, code: str
) -> None:
    request = sign(
        "POST",
        f"{aws_server.url}/",
        service="sts",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    response = _send(request)
    assert response.status_code == 400
    root = ElementTree.fromstring(response.content)
    assert root.tag == "ErrorResponse"
    assert root.findtext("Error/Type") == "Sender"
    assert root.findtext("Error/Code") == code
    assert "GetCallerIdentity" in (root.findtext("Error/Message") or "")
    assert root.findtext("RequestId")


def test_unknown_json_service_lists_the_supported_ones(client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        client("kinesis").list_streams()  # a JSON 1.1 service Lakeworks does not speak
    error = caught.value.response
    assert error["Error"]["Code"] == "UnknownOperationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "s3" in error["Error"]["Message"]
    assert "sts" in error["Error"]["Message"]
    headers = error["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    assert headers["content-type"].startswith("application/x-amz-json-1.1")


def test_unknown_rest_json_service(client: Any) -> None:
    gateway = client("apigateway")  # a REST-JSON service Lakeworks does not speak
    with pytest.raises(ClientError) as caught:
        gateway.get_rest_apis()
    # Without a target header the protocol is unknown too; the answer is a plain 400 that names
    # the services Lakeworks does speak.
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unsupported_s3_features_are_not_implemented(s3: Any) -> None:
    s3.create_bucket(Bucket="features")
    s3.put_object(Bucket="features", Key="k", Body=b"v")
    calls = [
        lambda: s3.get_bucket_acl(Bucket="features"),
        lambda: s3.put_object_acl(Bucket="features", Key="k", ACL="public-read"),
        lambda: s3.get_bucket_cors(Bucket="features"),
        lambda: s3.get_object_retention(Bucket="features", Key="k"),
        lambda: s3.put_object(
            Bucket="features",
            Key="k",
            Body=b"sse-c",
            SSECustomerAlgorithm="AES256",
            SSECustomerKey="k" * 32,
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "NotImplemented"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    # neither an ACL PUT nor an SSE-C PUT may have overwritten the object
    assert s3.get_object(Bucket="features", Key="k")["Body"].read() == b"v"


def test_method_not_allowed(aws_server: ServerProcess, sign: Any) -> None:
    response = _send(sign("PATCH", f"{aws_server.url}/features"))
    assert response.status_code == 405
    assert ElementTree.fromstring(response.content).findtext("Code") == "MethodNotAllowed"


@pytest.mark.parametrize("path", ["/%FF%FE/key", "/features/%C3%28"])
def test_undecodable_paths_are_a_400(aws_server: ServerProcess, sign: Any, path: str) -> None:
    response = _send(sign("GET", f"{aws_server.url}{path}"))
    assert response.status_code == 400
    root = ElementTree.fromstring(response.content)  # still well-formed XML
    assert root.findtext("Code") == "InvalidURI"
    assert root.findtext("Resource") == path


def test_oversized_query_body_is_refused(aws_server: ServerProcess, sign: Any) -> None:
    body = b"Action=GetCallerIdentity&Pad=" + b"x" * (17 * 1024 * 1024)
    request = sign(
        "POST",
        f"{aws_server.url}/",
        service="sts",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = _send(request)
    assert response.status_code == 413
    assert ElementTree.fromstring(response.content).findtext("Error/Code") == "EntityTooLarge"


def test_native_api_still_answers_beside_the_front_door(aws_server: ServerProcess) -> None:
    assert httpx.get(f"{aws_server.url}/healthz").json()["status"] == "ok"
    whoami = httpx.get(
        f"{aws_server.url}/api/v1/whoami",
        headers={"Authorization": f"Bearer {aws_server.token}"},
    )
    assert whoami.json()["principal"] == "admin"


def _scope(path: str, headers: dict[str, str] | None = None, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http",
        "path": path,
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }


@pytest.mark.parametrize(
    ("scope", "aws"),
    [
        (_scope("/healthz"), False),
        (_scope("/api/v1/buckets"), False),
        (_scope("/openapi.json"), False),
        (_scope("/docs"), False),
        (_scope("/"), True),
        (_scope("/bucket/key"), True),
        (_scope("/apiary/key"), True),
        (_scope("/api/v1/x", {"Authorization": "AWS4-HMAC-SHA256 Credential=..."}), True),
        (_scope("/api/v1/x", {"Authorization": "Bearer lwt_x"}), False),
        (_scope("/healthz", {"X-Amz-Target": "SageMaker.ListModels"}), True),
        (_scope("/api/v1/x", query=b"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=a"), True),
        (_scope("/api/v1/x", query=b"X-Amz-Other=1"), False),
    ],
)
def test_is_aws_request(scope: dict[str, Any], aws: bool) -> None:
    assert is_aws_request(scope) is aws
