"""Records against a group's definitions (pure), and how the front door tells the Feature Store
Runtime from SageMaker Runtime (both sign as ``sagemaker``)."""

from __future__ import annotations

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.features.records import FeatureSchema, parse_event_time, ttl_seconds
from lakeworks.server.aws import featurestore_runtime, s3, sagemaker, sagemaker_runtime
from lakeworks.server.aws.service import AwsService, ServiceRegistry

SCHEMA = FeatureSchema(
    types={"id": "Integral", "at": "Fractional", "name": "String", "x": "Fractional"},
    record_identifier="id",
    event_time="at",
)


def _values(**values: str) -> list[dict[str, str]]:
    return [{"FeatureName": k, "ValueAsString": v} for k, v in values.items()]


def test_a_record_is_checked_feature_by_feature() -> None:
    parsed = SCHEMA.parse(_values(id="7", at="1700000000.5", name="ann"))
    assert (parsed.record_id, parsed.event_time) == ("7", 1700000000.5)
    assert SCHEMA.typed("id", "7") == 7
    assert SCHEMA.typed("x", None) is None
    bad = {
        "'x' is Fractional": _values(id="7", at="1", x="abc"),
        "'id' is Integral": _values(id="seven", at="1"),
        "outside 64-bit": _values(id=str(2**64), at="1"),
        "appears more than once": [*_values(id="7", at="1"), *_values(id="8")],
        "'at' is Fractional": _values(id="7", at="noon"),
        "'other' is not defined": _values(id="7", at="1", other="1"),
        "non-empty list": [],
        "ValueAsStringList": [{"FeatureName": "name", "ValueAsStringList": ["a"]}],
    }
    for named, record in bad.items():
        with pytest.raises(ValidationError, match=named) as raised:
            SCHEMA.parse(record)
        assert raised.value.aws_code == "ValidationError"


def test_times_and_lifetimes() -> None:
    assert parse_event_time("2024-01-01T00:00:00Z", "String", "t") == 1704067200.0
    assert parse_event_time("2024-01-01T02:00:00+02:00", "String", "t") == 1704067200.0
    assert ttl_seconds({"Unit": "Days", "Value": 2}) == 172800.0
    assert ttl_seconds(None) is None
    with pytest.raises(ValidationError, match="Unit must be one of"):
        ttl_seconds({"Unit": "Years", "Value": 1})
    with pytest.raises(ValidationError, match="at least 1"):
        ttl_seconds({"Unit": "Days", "Value": 0})


def test_definitions_must_hang_together() -> None:
    SCHEMA.check_definition()
    for types, identifier, event, named in (
        ({"id": "String", "at": "Integral"}, "id", "at", "must be Fractional"),
        ({"id": "Fractional", "at": "String"}, "id", "at", "Integral or String"),
        ({"id": "String", "at": "String"}, "id", "when", "'when' is not among"),
        ({"id": "String", "at": "String", "is_deleted": "String"}, "id", "at", "reserved"),
    ):
        with pytest.raises(ValidationError, match=named):
            FeatureSchema(types, identifier, event).check_definition()


def test_runtime_services_sharing_a_signing_name_are_told_apart_by_path() -> None:
    registry = ServiceRegistry(
        [s3.SERVICE, sagemaker.SERVICE, sagemaker_runtime.SERVICE, featurestore_runtime.SERVICE]
    )
    feature_store = featurestore_runtime.SERVICE
    assert registry.resolve(None, "sagemaker", "/FeatureGroup/users") is feature_store
    assert registry.resolve(None, "sagemaker", "/BatchGetRecord") is feature_store
    assert registry.resolve(None, "sagemaker", "/endpoints/e/invocations") is (
        sagemaker_runtime.SERVICE
    )
    assert registry.resolve("SageMaker.ListFeatureGroups", "sagemaker", "/") is sagemaker.SERVICE
    twin = AwsService(
        name="twin",
        protocol="rest-json",
        signing_name="sagemaker",
        actions={},
        resolve=featurestore_runtime.SERVICE.resolve,
    )
    with pytest.raises(ValueError, match="signing name"):
        ServiceRegistry([sagemaker_runtime.SERVICE, twin])
