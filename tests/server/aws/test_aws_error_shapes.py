"""The AWS renderers of ``server/errors.py``: one exception, each protocol's shape."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from lakeworks.core.errors import (
    AccessDenied,
    InternalError,
    LakeworksError,
    NotFound,
    Unauthenticated,
    ValidationError,
)
from lakeworks.server.errors import (
    aws_error_code,
    aws_json_error_response,
    aws_query_error_response,
    aws_xml_error_response,
)


def test_s3_xml_shape() -> None:
    error = NotFound("No object 'k' in bucket 'b'", aws_code="NoSuchKey")
    response = aws_xml_error_response(error, "req-1", resource="/b/k")
    assert response.status_code == 404
    assert response.media_type == "application/xml"
    assert response.headers["x-amz-request-id"] == "req-1"
    root = ElementTree.fromstring(bytes(response.body))
    assert root.tag == "Error"
    assert [child.tag for child in root] == ["Code", "Message", "Resource", "RequestId"]
    assert root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Message") == "No object 'k' in bucket 'b'"
    assert root.findtext("Resource") == "/b/k"
    assert root.findtext("RequestId") == "req-1"


def test_s3_head_errors_have_no_body() -> None:
    response = aws_xml_error_response(NotFound("gone"), "r", head=True)
    assert response.status_code == 404
    assert response.body == b""


def test_xml_escapes_user_text() -> None:
    error = ValidationError("Invalid key '<script>&'", aws_code="InvalidArgument")
    root = ElementTree.fromstring(bytes(aws_xml_error_response(error, "r").body))
    assert root.findtext("Message") == "Invalid key '<script>&'"


def test_query_shape() -> None:
    response = aws_query_error_response(ValidationError("bad", aws_code="InvalidAction"), "r2")
    assert response.status_code == 400
    root = ElementTree.fromstring(bytes(response.body))
    assert root.tag == "ErrorResponse"
    assert root.findtext("Error/Type") == "Sender"
    assert root.findtext("Error/Code") == "InvalidAction"
    assert root.findtext("Error/Message") == "bad"
    assert root.findtext("RequestId") == "r2"
    server_side = ElementTree.fromstring(
        bytes(aws_query_error_response(InternalError("x"), "r").body)
    )
    assert server_side.findtext("Error/Type") == "Receiver"


@pytest.mark.parametrize("shape", ["json", "rest-json"])
def test_json_shapes(shape: str) -> None:
    error = ValidationError("no such thing", aws_code="UnknownOperationException")
    response = aws_json_error_response(error, "r3", shape=shape)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert json.loads(bytes(response.body)) == {
        "__type": "UnknownOperationException",
        "message": "no such thing",
    }
    assert response.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert response.headers["x-amzn-RequestId"] == "r3"
    expected = "application/json" if shape == "rest-json" else "application/x-amz-json-1.1"
    assert response.headers["content-type"] == expected


@pytest.mark.parametrize(
    ("error", "xml", "query", "json_code"),
    [
        (
            Unauthenticated("unknown key", aws_code="InvalidAccessKeyId"),
            "InvalidAccessKeyId",
            "InvalidClientTokenId",
            "UnrecognizedClientException",
        ),
        (
            AccessDenied("needs write"),
            "AccessDenied",
            "AccessDenied",
            "AccessDeniedException",
        ),
        (
            AccessDenied("anonymous", aws_code="MissingAuthenticationToken"),
            "AccessDenied",
            "MissingAuthenticationToken",
            "MissingAuthenticationTokenException",
        ),
        (ValidationError("bad"), "InvalidArgument", "ValidationError", "ValidationException"),
        (InternalError("boom"), "InternalError", "InternalFailure", "InternalFailure"),
    ],
)
def test_codes_are_spelled_per_protocol(
    error: LakeworksError, xml: str, query: str, json_code: str
) -> None:
    assert aws_error_code(error, "xml") == xml
    assert aws_error_code(error, "query") == query
    assert aws_error_code(error, "json") == json_code


def test_unauthenticated_is_403_on_the_front_door() -> None:
    error = Unauthenticated("unknown key", aws_code="InvalidAccessKeyId")
    assert error.status == 401
    assert aws_xml_error_response(error, "r").status_code == 403
    assert aws_json_error_response(error, "r").status_code == 403
    assert aws_query_error_response(error, "r").status_code == 403
