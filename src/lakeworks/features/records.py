"""Records against a feature group's definitions: pure checks and conversions.

SageMaker sends every value as a string; a feature's type says what the string must hold
(``Integral``: a 64-bit integer, ``Fractional``: a number, ``String``: anything). The event time
feature is ``Fractional`` (epoch seconds) or ``String`` (ISO 8601, e.g.
``2024-01-31T12:00:00Z``). Nothing here touches a database or the lake.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lakeworks.core.errors import ValidationError

__all__ = [
    "TTL_SECONDS",
    "FeatureSchema",
    "ParsedRecord",
    "parse_event_time",
    "ttl_seconds",
]

#: Seconds per SageMaker TtlDuration unit.
TTL_SECONDS = {"Seconds": 1, "Minutes": 60, "Hours": 3600, "Days": 86400, "Weeks": 604800}
_INT64 = (-(2**63), 2**63 - 1)


def _invalid(message: str) -> ValidationError:
    # the featurestore runtime's error code is ValidationError (botocore's shape name)
    return ValidationError(message, aws_code="ValidationError")


def ttl_seconds(ttl: dict[str, Any] | None) -> float | None:
    """Seconds of a ``{"Unit", "Value"}`` TtlDuration, or ``None`` without one.

    Raises:
        ValidationError: Unknown unit or a value below 1.
    """
    if not ttl:
        return None
    unit, value = ttl.get("Unit"), ttl.get("Value")
    if unit not in TTL_SECONDS:
        raise _invalid(f"TtlDuration.Unit must be one of {', '.join(TTL_SECONDS)}, got {unit!r}")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid(f"TtlDuration.Value must be an integer of at least 1, got {value!r}")
    return float(value * TTL_SECONDS[unit])


def parse_event_time(text: str, feature_type: str, name: str) -> float:
    """Epoch seconds of an event time value.

    Raises:
        ValidationError: Not a number (``Fractional``) or not ISO 8601 (``String``).
    """
    if feature_type == "Fractional":
        try:
            value = float(text)
        except ValueError:
            raise _invalid(
                f"Event time feature {name!r} is Fractional: give epoch seconds, got {text!r}"
            ) from None
        if not math.isfinite(value):
            raise _invalid(f"Event time feature {name!r} must be finite, got {text!r}")
        return value
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(
            f"Event time feature {name!r} must be an ISO 8601 timestamp such as "
            f"2024-01-31T12:00:00Z, got {text!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _check_value(name: str, feature_type: str, text: str) -> None:
    if feature_type == "Integral":
        try:
            value = int(text.strip())
        except ValueError:
            raise _invalid(
                f"Feature {name!r} is Integral: its value must be a whole number, got {text!r}"
            ) from None
        if not _INT64[0] <= value <= _INT64[1]:
            raise _invalid(f"Feature {name!r} is Integral: {text!r} is outside 64-bit range")
    elif feature_type == "Fractional":
        try:
            number = float(text)
        except ValueError:
            raise _invalid(
                f"Feature {name!r} is Fractional: its value must be a number, got {text!r}"
            ) from None
        if math.isnan(number):
            raise _invalid(f"Feature {name!r} is Fractional: NaN is not allowed")


@dataclass(frozen=True)
class ParsedRecord:
    """A checked record: its identifier, event time (epoch seconds) and values by name."""

    record_id: str
    event_time: float
    values: dict[str, str]


@dataclass(frozen=True)
class FeatureSchema:
    """A feature group's features and its identifier and event time features.

    Args:
        types: Feature name → ``Integral``/``Fractional``/``String``, in definition order.
        record_identifier: The identifier feature's name.
        event_time: The event time feature's name.
    """

    types: dict[str, str]
    record_identifier: str
    event_time: str

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> FeatureSchema:
        """The schema of a stored CreateFeatureGroup request (SageMaker's names)."""
        return cls(
            types={d["FeatureName"]: d["FeatureType"] for d in spec["FeatureDefinitions"]},
            record_identifier=spec["RecordIdentifierFeatureName"],
            event_time=spec["EventTimeFeatureName"],
        )

    def check_definition(self) -> None:
        """Check the definitions hang together (CreateFeatureGroup).

        Raises:
            ValidationError: Duplicate names, a reserved name, a missing identifier or event
                time feature, or an event time that is not ``Fractional``/``String``.
        """
        # ValidationException on the control plane (SageMaker's JSON API)
        lowered = [n.lower() for n in self.types]
        if len(set(lowered)) != len(lowered):
            raise ValidationError("FeatureDefinitions: feature names must be unique")
        reserved = {"is_deleted", "write_time", "api_invocation_time", "year", "month"}
        reserved |= {"day", "hour"}
        clash = sorted(reserved & set(lowered))
        if clash:
            raise ValidationError(
                f"FeatureDefinitions: {', '.join(clash)} are reserved names of the offline store"
            )
        for role, name in (
            ("RecordIdentifierFeatureName", self.record_identifier),
            ("EventTimeFeatureName", self.event_time),
        ):
            if name not in self.types:
                raise ValidationError(
                    f"{role} {name!r} is not among the FeatureDefinitions ({', '.join(self.types)})"
                )
        if self.types[self.record_identifier] not in ("Integral", "String"):
            raise ValidationError(
                f"The record identifier feature {self.record_identifier!r} must be Integral "
                "or String"
            )
        if self.types[self.event_time] not in ("Fractional", "String"):
            raise ValidationError(
                f"The event time feature {self.event_time!r} must be Fractional (epoch "
                "seconds) or String (ISO 8601)"
            )

    def parse(self, record: Any) -> ParsedRecord:
        """Check a PutRecord ``Record`` (a list of ``{"FeatureName", "ValueAsString"}``).

        Raises:
            ValidationError: ``ValidationError`` naming the feature that is unknown,
                repeated, badly typed, a list, or the missing identifier/event time.
        """
        if not isinstance(record, list) or not record:
            raise _invalid("Record must be a non-empty list of FeatureValue")
        values: dict[str, str] = {}
        for item in record:
            if not isinstance(item, dict) or not isinstance(item.get("FeatureName"), str):
                raise _invalid("Each FeatureValue needs a FeatureName string")
            name = item["FeatureName"]
            if name not in self.types:
                raise _invalid(
                    f"Feature {name!r} is not defined in the feature group; defined features: "
                    f"{', '.join(self.types)}"
                )
            if name in values:
                raise _invalid(f"Feature {name!r} appears more than once in the record")
            if item.get("ValueAsStringList") is not None:
                raise _invalid(
                    f"Feature {name!r}: ValueAsStringList is for collection features, which "
                    "Lakeworks does not support; give ValueAsString"
                )
            text = item.get("ValueAsString")
            if not isinstance(text, str):
                raise _invalid(f"Feature {name!r} needs a ValueAsString string")
            _check_value(name, self.types[name], text)
            values[name] = text
        if not values.get(self.record_identifier, "").strip():
            raise _invalid(
                f"The record must include the record identifier feature {self.record_identifier!r}"
            )
        if self.event_time not in values:
            raise _invalid(f"The record must include the event time feature {self.event_time!r}")
        event_time = parse_event_time(
            values[self.event_time], self.types[self.event_time], self.event_time
        )
        return ParsedRecord(values[self.record_identifier], event_time, values)

    def typed(self, name: str, text: str | None) -> Any:
        """A value as the offline store keeps it (``int``, ``float`` or ``str``)."""
        if text is None:
            return None
        kind = self.types[name]
        if kind == "Integral":
            return int(text.strip())
        if kind == "Fractional":
            return float(text)
        return text
