"""What policy statements match against: callers and requests, wildcard patterns with policy
variables, and condition operators (pure logic, used by :mod:`lakeworks.lake.policies`).

Condition operators: ``String(Not)Equals(IgnoreCase)``, ``String(Not)Like``, ``Numeric*``,
``Date*``, ``Arn(Not)Equals``, ``Arn(Not)Like``, ``Bool``, ``Null``, ``(Not)IpAddress``, each with
an optional ``...IfExists`` suffix and ``ForAllValues:``/``ForAnyValue:`` prefix. Within one
condition key the listed values are alternatives; a negated operator holds when none matches.
A key the request lacks makes positive operators false, negated operators true, ``...IfExists``
true, ``ForAllValues:`` true and ``ForAnyValue:`` false, as in AWS.
"""

from __future__ import annotations

import functools
import ipaddress
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lakeworks.core.errors import ValidationError

__all__ = [
    "AccessRequest",
    "Caller",
    "ConditionTest",
    "condition_holds",
    "glob",
    "malformed",
    "matches",
    "parse_conditions",
]

_STRING_OPS = {
    "stringequals": False,
    "stringnotequals": True,
    "stringequalsignorecase": False,
    "stringnotequalsignorecase": True,
    "stringlike": False,
    "stringnotlike": True,
    "arnequals": False,
    "arnnotequals": True,
    "arnlike": False,
    "arnnotlike": True,
}
_Compare = Callable[[Any, Any], bool]
_NUMERIC_OPS: dict[str, tuple[bool, _Compare]] = {
    "numericequals": (False, operator.eq),
    "numericnotequals": (True, operator.eq),
    "numericlessthan": (False, operator.lt),
    "numericlessthanequals": (False, operator.le),
    "numericgreaterthan": (False, operator.gt),
    "numericgreaterthanequals": (False, operator.ge),
}
_DATE_OPS = {name.replace("numeric", "date"): spec for name, spec in _NUMERIC_OPS.items()}
_OTHER_OPS = {"bool": False, "null": False, "ipaddress": False, "notipaddress": True}
_NOTHING = re.compile(r"(?!)")


def malformed(reason: str) -> ValidationError:
    """The error for a policy document that breaks the grammar."""
    return ValidationError(reason, aws_code="MalformedPolicy", details={"field": "policy"})


@dataclass(frozen=True)
class Caller:
    """The principal a policy is evaluated for."""

    name: str
    arn: str
    account_id: str


@dataclass(frozen=True)
class AccessRequest:
    """One request as policies see it.

    Attributes:
        caller: Who asks.
        action: The S3 action (``s3:GetObject``).
        resource: The bucket or object ARN (``arn:aws:s3:::b/k``).
        context: Condition keys (lower case) and their values.
    """

    caller: Caller
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)

    def values(self, key: str) -> list[str] | None:
        """The request's values of a condition key, ``None`` when it lacks the key."""
        value = self.context.get(key)
        if value is None:  # condition keys ignore case
            value = next((v for k, v in self.context.items() if k.lower() == key), None)
        if value is None:
            return None
        return [value] if isinstance(value, str) else list(value)

    def variables(self) -> dict[str, str]:
        """Policy variables (lower-case names) and their values for this request."""
        return {
            "aws:username": self.caller.name,
            "aws:userid": self.caller.name,
            "aws:principalarn": self.caller.arn,
            "*": "*",
            "?": "?",
            "$": "$",
        }


@dataclass(frozen=True)
class ConditionTest:
    """One ``operator: {key: values}`` test of a statement's ``Condition``."""

    operator: str
    key: str
    values: tuple[str, ...]
    if_exists: bool = False
    quantifier: str | None = None


def parse_conditions(value: Any) -> tuple[ConditionTest, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise malformed("Condition must be a JSON object of operators")
    tests: list[ConditionTest] = []
    for raw_operator, block in value.items():
        operator = str(raw_operator)
        quantifier = None
        for prefix in ("ForAllValues:", "ForAnyValue:"):
            if operator.lower().startswith(prefix.lower()):
                quantifier, operator = prefix[:-1].lower(), operator[len(prefix) :]
        if_exists = operator.lower().endswith("ifexists") and operator.lower() != "null"
        base = operator[: -len("IfExists")] if if_exists else operator
        name = base.lower()
        if (
            name not in _STRING_OPS
            and name not in _NUMERIC_OPS
            and name not in _DATE_OPS
            and (name not in _OTHER_OPS)
        ):
            raise malformed(f"Invalid Condition type: {raw_operator}")
        if not isinstance(block, dict) or not block:
            raise malformed(f"Condition {raw_operator} must map condition keys to values")
        for key, raw_values in block.items():
            values = raw_values if isinstance(raw_values, list) else [raw_values]
            if not values or not all(isinstance(v, str | int | float | bool) for v in values):
                raise malformed(f"Condition {raw_operator} {key}: values must be strings")
            texts = tuple(_text(v) for v in values)
            _check_values(name, str(key), texts)
            tests.append(ConditionTest(name, str(key).lower(), texts, if_exists, quantifier))
    return tuple(tests)


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_values(operator: str, key: str, values: tuple[str, ...]) -> None:
    for value in values:
        if operator in _NUMERIC_OPS and _number(value) is None:
            raise malformed(f"Condition {key}: {value!r} is not a number")
        if operator in _DATE_OPS and _date(value) is None:
            raise malformed(f"Condition {key}: {value!r} is not an ISO 8601 date or epoch time")
        if operator in ("bool", "null") and value.lower() not in ("true", "false"):
            raise malformed(f"Condition {key}: {value!r} must be true or false")
        if operator in ("ipaddress", "notipaddress"):
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise malformed(
                    f"Condition {key}: {value!r} is not an IP address or CIDR"
                ) from None


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _date(value: str) -> datetime | None:
    number = _number(value)
    if number is not None:
        return datetime.fromtimestamp(number, UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- matching --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _compile(
    pattern: str, case: bool, variables: tuple[tuple[str, str], ...] = ()
) -> re.Pattern[str] | None:
    """A regular expression for a policy wildcard pattern (``*`` any run, ``?`` one character).

    ``${name}`` is replaced by the variable's value, taken literally; an unknown variable gives
    ``None`` (the element then matches nothing, as in AWS).
    """
    known = dict(variables)
    parts: list[str] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if pattern.startswith("${", position) and "}" in pattern[position:]:
            end = pattern.index("}", position)
            value = known.get(pattern[position + 2 : end].lower())
            if value is None:
                return None
            parts.append(re.escape(value))
            position = end + 1
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        position += 1
    return re.compile("".join(parts), re.DOTALL if case else re.IGNORECASE | re.DOTALL)


def glob(pattern: str, *, case: bool) -> re.Pattern[str]:
    """A wildcard pattern without variables (one with a variable matches nothing)."""
    return _compile(pattern, case) or _NOTHING


def matches(pattern: str, value: str, request: AccessRequest, *, case: bool) -> bool:
    variables = tuple(sorted(request.variables().items())) if "${" in pattern else ()
    compiled = _compile(pattern, case, variables)
    return compiled is not None and compiled.fullmatch(value) is not None


def _substituted(value: str, request: AccessRequest) -> str | None:
    if "${" not in value:
        return value
    variables = request.variables()
    out: list[str] = []
    position = 0
    while (start := value.find("${", position)) >= 0 and (end := value.find("}", start)) >= 0:
        known = variables.get(value[start + 2 : end].lower())
        if known is None:
            return None
        out += [value[position:start], known]
        position = end + 1
    return "".join([*out, value[position:]])


def _single(operator: str, wanted: str, actual: str, request: AccessRequest) -> bool:
    """Whether one request value matches one policy value under a positive operator."""
    if operator in ("stringlike", "stringnotlike", "arnlike", "arnnotlike"):
        return matches(wanted, actual, request, case=True)
    expected = _substituted(wanted, request)
    if expected is None:
        return False
    wanted = expected
    if operator in ("stringequals", "stringnotequals", "arnequals", "arnnotequals"):
        return actual == wanted
    if operator == "bool":
        return actual.lower() == wanted.lower()
    if operator in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return actual.casefold() == wanted.casefold()
    if operator in _NUMERIC_OPS:
        a, b = _number(actual), _number(wanted)
        return a is not None and b is not None and bool(_NUMERIC_OPS[operator][1](a, b))
    if operator in _DATE_OPS:
        when, limit = _date(actual), _date(wanted)
        return when is not None and limit is not None and bool(_DATE_OPS[operator][1](when, limit))
    if operator in ("ipaddress", "notipaddress"):
        try:
            return ipaddress.ip_address(actual) in ipaddress.ip_network(wanted, strict=False)
        except ValueError:
            return False
    return False


def _negated(operator: str) -> bool:
    if operator in _STRING_OPS:
        return _STRING_OPS[operator]
    if operator in _NUMERIC_OPS:
        return _NUMERIC_OPS[operator][0]
    if operator in _DATE_OPS:
        return _DATE_OPS[operator][0]
    return _OTHER_OPS.get(operator, False)


def condition_holds(test: ConditionTest, request: AccessRequest) -> bool:
    actual = request.values(test.key)
    if test.operator == "null":
        return (actual is None) == (test.values[0].lower() == "true")
    if actual is None:
        if test.if_exists or test.quantifier == "forallvalues":
            return True
        if test.quantifier == "foranyvalue":
            return False
        return _negated(test.operator)
    negated = _negated(test.operator)

    def one(value: str) -> bool:
        hit = any(_single(test.operator, wanted, value, request) for wanted in test.values)
        return not hit if negated else hit

    if test.quantifier == "forallvalues":
        return all(one(value) for value in actual)
    return any(one(value) for value in actual)
