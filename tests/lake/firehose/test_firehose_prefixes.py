"""Prefix expressions, the default layout and object names (pure)."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.lake.firehose.prefixes import KeyLayout, format_timestamp, object_name

WHEN = datetime(2024, 3, 7, 9, 5, 2, 123000)
TOKEN = uuid.UUID(int=12345)


def test_timestamp_patterns() -> None:
    assert format_timestamp("yyyy/MM/dd/HH/", WHEN) == "2024/03/07/09/"
    assert format_timestamp("yy-MM-dd'T'HH:mm:ss.SSS", WHEN) == "24-03-07T09:05:02.123"


def test_default_layout_and_expressions() -> None:
    plain = KeyLayout("raw/", "")
    assert plain.data_prefix(WHEN, TOKEN) == "raw/2024/03/07/09/"
    assert plain.error_prefix_for(WHEN, TOKEN, "format-conversion-failed") == (
        "format-conversion-failed/2024/03/07/09/"
    )
    custom = KeyLayout(
        "logs/year=!{timestamp:yyyy}/!{firehose:random-string}/",
        "err/!{firehose:error-output-type}/!{timestamp:yyyy}/",
    )
    data = custom.data_prefix(WHEN, TOKEN)
    assert data.startswith("logs/year=2024/")
    assert len(data.split("/")[2]) == 11
    assert data == custom.data_prefix(WHEN, TOKEN)  # deterministic: replays overwrite
    assert custom.error_prefix_for(WHEN, TOKEN, "processing-failed") == (
        "err/processing-failed/2024/"
    )
    assert custom.static_prefix() == "logs/"
    assert object_name("s", "1", WHEN, TOKEN) == f"s-1-2024-03-07-09-05-02-{TOKEN}"


@pytest.mark.parametrize(
    ("prefix", "error", "message"),
    [
        ("a/!{timestamp:yyyy}/", "", "ErrorOutputPrefix cannot be null"),
        ("a/!{timestamp:QQ}/", "e/!{firehose:error-output-type}", "Unsupported field 'QQ'"),
        ("a/!{firehose:error-output-type}/", "e/", "only in ErrorOutputPrefix"),
        ("a/!{partitionKeyFromQuery:id}/", "e/", "dynamic partitioning"),
        ("a/", "e/!{timestamp:yyyy}/", "must contain !{firehose:error-output-type}"),
        ("a/!{timestamp:yyyy", "", "Malformed expression"),
    ],
)
def test_bad_prefixes_say_why(prefix: str, error: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("{", r"\{").replace("(", r"\(")):
        KeyLayout(prefix, error)
