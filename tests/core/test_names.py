from __future__ import annotations

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.core.names import (
    arn,
    validate_bucket_name,
    validate_key,
    validate_name,
    validate_tags,
)


@pytest.mark.parametrize("name", ["a", "job-1", "A1b2", "x" * 63, "a--b"])
def test_valid_names(name: str) -> None:
    assert validate_name(name, "training job") == name


@pytest.mark.parametrize("name", ["", "-a", "a-", "a_b", "a b", "x" * 64, "é"])
def test_invalid_names_say_the_rule(name: str) -> None:
    with pytest.raises(ValidationError, match="letters, digits and hyphens"):
        validate_name(name, "training job")


@pytest.mark.parametrize("name", ["abc", "my.bucket-1", "a" * 63])
def test_valid_bucket_names(name: str) -> None:
    assert validate_bucket_name(name) == name


@pytest.mark.parametrize(
    "name", ["ab", "ABC", "a..b", "-ab", "ab-", "192.168.1.1", "a" * 64, "xn--ab", "a_b", "api"]
)
def test_invalid_bucket_names(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_bucket_name(name)
    assert info.value.aws_code == "InvalidBucketName"


@pytest.mark.parametrize("key", ["a", "a/b/c.csv", "dir/", "a//b", "ünï cödé.txt", "k" * 1024])
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("", "InvalidArgument"),
        ("../etc/passwd", "InvalidArgument"),
        ("a/../../b", "InvalidArgument"),
        ("a/./b", "InvalidArgument"),
        ("/abs", "InvalidArgument"),
        ("a\x00b", "InvalidArgument"),
        ("a\\b", "InvalidArgument"),
        ("k" * 1025, "KeyTooLongError"),
        ("é" * 513, "KeyTooLongError"),
    ],
)
def test_invalid_keys(key: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_key(key)
    assert info.value.aws_code == code
    assert info.value.status == 400


def test_arn_format() -> None:
    assert (
        arn("sagemaker", "training-job/x", account_id="000000000000", region="us-east-1")
        == "arn:aws:sagemaker:us-east-1:000000000000:training-job/x"
    )


def test_tags() -> None:
    assert validate_tags({"team": "ml"}) == {"team": "ml"}
    with pytest.raises(ValidationError, match="reserved prefix"):
        validate_tags({"aws:x": "1"})
    with pytest.raises(ValidationError, match="At most 50"):
        validate_tags({f"k{i}": "v" for i in range(51)})
