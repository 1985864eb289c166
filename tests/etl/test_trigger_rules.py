"""The pure trigger logic: schedules (rate and cron), argument templates, predicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.etl.trigger_rules import parse_schedule, predicate_met, render_arguments
from lakeworks.schemas.triggers import TriggerPredicate

T0 = datetime(2024, 3, 1, 10, 7, 30, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("  RATE( 3 Days ) ", 3 * 86400),
    ],
)
def test_rate_schedules_count_from_the_previous_fire(expression: str, seconds: int) -> None:
    schedule = parse_schedule(expression)
    assert schedule.next_after(T0) == T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(15 * * * ? *)", datetime(2024, 3, 1, 10, 15, tzinfo=UTC)),
        ("cron(0 12 * * ? *)", datetime(2024, 3, 1, 12, 0, tzinfo=UTC)),
        ("cron(0/5 * * * ? *)", datetime(2024, 3, 1, 10, 10, tzinfo=UTC)),
        ("cron(0 9 ? * MON *)", datetime(2024, 3, 4, 9, 0, tzinfo=UTC)),
        ("cron(0 0 L * ? *)", datetime(2024, 3, 31, 0, 0, tzinfo=UTC)),
    ],
)
def test_cron_schedules(expression: str, expected: datetime) -> None:
    assert parse_schedule(expression).next_after(T0) == expected


def test_cron_fires_strictly_after_a_fire_time() -> None:
    schedule = parse_schedule("cron(0 12 * * ? *)")
    first = schedule.next_after(T0)
    assert first is not None
    assert schedule.next_after(first) == first + timedelta(days=1)


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("rate(5 minute)", "5 minute is not allowed"),
        ("rate(1 minutes)", "1 minutes is not allowed"),
        ("rate(0 minutes)", "0 minutes is not allowed"),
        ("rate(5 weeks)", "unknown unit 'weeks'"),
        ("rate(five minutes)", "expected rate(N unit)"),
        ("cron(0 12 * * *)", "expected 6 fields"),
        ("cron(61 * * * ? *)", "minutes"),
        ("every day", "expected cron(...)"),
    ],
)
def test_bad_schedules_say_what_is_allowed(expression: str, says: str) -> None:
    with pytest.raises(ValidationError) as bad:
        parse_schedule(expression)
    assert says in bad.value.message
    assert bad.value.aws_code == "InvalidInputException"


def test_glue_triggers_refuse_rate() -> None:
    with pytest.raises(ValidationError) as bad:
        parse_schedule("rate(5 minutes)", allow_rate=False)
    assert "native API" in bad.value.message


def test_render_arguments_fills_known_placeholders_only() -> None:
    values = {"bucket": "data", "key": "glue-in/a b.csv", "s3_uri": "s3://data/glue-in/a b.csv"}
    rendered = render_arguments(
        {
            "--s3_input_dataset": "{s3_uri}",
            "--where": "{bucket}/{key}",
            "--json": '{"a": 1}',
            "--later": "{fire_time}",
            "--unknown": "{nope}",
        },
        values,
    )
    assert rendered == {
        "--s3_input_dataset": "s3://data/glue-in/a b.csv",
        "--where": "data/glue-in/a b.csv",
        "--json": '{"a": 1}',
        "--later": "{fire_time}",
        "--unknown": "{nope}",
    }


def _predicate(logical: str, *conditions: tuple[str, str]) -> TriggerPredicate:
    return TriggerPredicate.model_validate(
        {"logical": logical, "conditions": [{"job_name": j, "state": s} for j, s in conditions]}
    )


def test_and_predicate_needs_every_job_after_arming() -> None:
    both = _predicate("AND", ("a", "SUCCEEDED"), ("b", "SUCCEEDED"))
    later = T0 + timedelta(minutes=1)
    assert not predicate_met(both, {"a": ("SUCCEEDED", later)}, T0)
    assert predicate_met(both, {"a": ("SUCCEEDED", later), "b": ("SUCCEEDED", later)}, T0)
    assert not predicate_met(both, {"a": ("SUCCEEDED", later), "b": ("FAILED", later)}, T0)
    # a run that ended before the trigger was armed (or last fired) does not count
    assert not predicate_met(both, {"a": ("SUCCEEDED", later), "b": ("SUCCEEDED", T0)}, T0)


def test_any_predicate_needs_one() -> None:
    either = _predicate("ANY", ("a", "FAILED"), ("a", "TIMEOUT"))
    later = T0 + timedelta(seconds=1)
    assert predicate_met(either, {"a": ("TIMEOUT", later)}, T0)
    assert not predicate_met(either, {"a": ("SUCCEEDED", later)}, T0)
    assert not predicate_met(either, {}, T0)
