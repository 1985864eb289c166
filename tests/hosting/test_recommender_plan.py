"""The pure half of the inference recommender: request checks, candidates, traffic, judging."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.errors import ModelError
from lakeworks.hosting.recommender.benchmark import drive
from lakeworks.hosting.recommender.plan import (
    PhaseResult,
    check_request,
    percentile,
    phases_of,
    plan_candidates,
    rank,
    stop_reason,
    summarize,
    threshold_of,
)
from lakeworks.schemas.recommender import (
    Phase,
    RecommendationJobCreate,
    RecommendationJobStoppingConditions,
)

ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
PACKAGE = "arn:aws:sagemaker:us-east-1:000000000000:model-package/p/1"


def request(**input_config: Any) -> RecommendationJobCreate:
    """An Advanced job on model ``m`` with the input config's fields overridden."""
    config: dict[str, Any] = {
        "ModelName": "m",
        "EndpointConfigurations": [{"InstanceType": "ml.m5.large"}],
        "TrafficPattern": {"TrafficType": "PHASES", "Phases": [{"InitialNumberOfUsers": 1}]},
        "ContainerConfig": {
            "PayloadConfig": {
                "SamplePayloadUrl": "s3://bucket/payloads.tar.gz",
                "SupportedContentTypes": ["text/csv"],
            }
        },
    }
    config.update(input_config)
    return RecommendationJobCreate.model_validate(
        {"JobName": "job", "JobType": "Advanced", "RoleArn": ROLE, "InputConfig": config}
    )


def test_a_complete_request_passes() -> None:
    check_request(request())


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"ModelPackageVersionArn": PACKAGE},
            "no model registry",
        ),
        ({"ModelName": None}, "name the model"),
        ({"Endpoints": [{"EndpointName": "e"}]}, "InputConfig.Endpoints: not supported"),
        ({"VpcConfig": {"Subnets": ["s"], "SecurityGroupIds": ["g"]}}, "VpcConfig"),
        ({"EndpointConfigurations": [{}]}, "exactly one of InstanceType and ServerlessConfig"),
        ({"ContainerConfig": {}}, "SamplePayloadUrl: give the s3:// URI"),
        (
            {"ContainerConfig": {"PayloadConfig": {"SamplePayloadUrl": "s3://bucket/p.tar.gz"}}},
            "SupportedContentTypes",
        ),
        ({"TrafficPattern": None}, "an Advanced job needs a TrafficPattern"),
        ({"TrafficPattern": {"TrafficType": "STAIRS"}}, "STAIRS traffic needs"),
        (
            {"TrafficPattern": {"Phases": [{"InitialNumberOfUsers": 65}]}},
            "at most 64 concurrent users",
        ),
        ({"ResourceLimit": {"MaxParallelOfTests": 9}}, "at most 4 load tests run at once"),
    ],
)
def test_unsupported_or_incomplete_requests_are_refused(
    override: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        check_request(request(**override))


def test_thresholds_need_percentile_and_value() -> None:
    job = request()
    job.stopping_conditions = RecommendationJobStoppingConditions.model_validate(
        {"ModelLatencyThresholds": [{"Percentile": "P95"}]}
    )
    with pytest.raises(ValidationError, match=r"Percentile \(P95 or P99\) and ValueInMilliseconds"):
        check_request(job)


def test_candidates_are_instance_counts_per_type_then_capped_by_max_tests() -> None:
    two_types = [{"InstanceType": "ml.m5.large"}, {"InstanceType": "ml.c5.large"}]
    planned = plan_candidates(request(EndpointConfigurations=two_types))
    assert [(c.instance_type, c.instance_count) for c in planned] == [
        ("ml.m5.large", 1),
        ("ml.c5.large", 1),
        ("ml.m5.large", 2),
        ("ml.c5.large", 2),
    ]
    limited = plan_candidates(
        request(EndpointConfigurations=two_types, ResourceLimit={"MaxNumberOfTests": 3})
    )
    assert [(c.instance_type, c.instance_count) for c in limited] == [
        ("ml.m5.large", 1),
        ("ml.c5.large", 1),
        ("ml.m5.large", 2),
    ]
    wide = plan_candidates(request(ResourceLimit={"MaxNumberOfTests": 100}))
    assert [c.instance_count for c in wide] == [1, 2, 3, 4]  # MAX_INSTANCE_COUNT
    serverless = plan_candidates(
        request(
            EndpointConfigurations=[
                {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
            ]
        )
    )
    assert [c.variant for c in serverless] == [
        {"serverless_config": {"memory_size_in_mb": 2048, "max_concurrency": 5}}
    ]


def test_stairs_become_equal_phases_and_default_jobs_get_default_traffic() -> None:
    stairs = request(
        TrafficPattern={
            "TrafficType": "STAIRS",
            "Stairs": {"DurationInSeconds": 9, "NumberOfSteps": 3, "UsersPerStep": 2},
        }
    )
    assert [(p.initial_number_of_users, p.duration_in_seconds) for p in phases_of(stairs)] == [
        (2, 3),
        (4, 3),
        (6, 3),
    ]
    default = request(TrafficPattern=None)
    default.job_type = "Default"
    assert len(phases_of(default)) == 1


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile([], 99) == 0


def phase(latencies_us: list[float], seconds: float = 1.0, errors: int = 0) -> PhaseResult:
    return PhaseResult(users=1, seconds=seconds, latencies_us=latencies_us, errors=errors)


def test_summarize_takes_the_fastest_phase_that_meets_the_threshold() -> None:
    slow_but_ok = phase([1000.0] * 60)  # 3600/min, p99 1 ms
    fast_but_late = phase([5000.0] * 120)  # 7200/min, p99 5 ms
    measured = summarize([slow_but_ok, fast_but_late], ("P99", 2000.0))
    assert measured.qualifies
    assert measured.invocations_per_minute == 3600
    assert measured.model_latency_ms == 1
    assert measured.invocations == 180
    unbounded = summarize([slow_but_ok, fast_but_late], threshold_of(None))
    assert unbounded.invocations_per_minute == 7200
    assert unbounded.model_latency_ms == 5


def test_phases_with_errors_or_over_the_threshold_do_not_qualify() -> None:
    failing = phase([100.0] * 10, errors=1)
    failing.first_error = "boom"
    measured = summarize([failing], threshold_of(None))
    assert not measured.qualifies
    assert measured.first_error == "boom"
    impossible = summarize([phase([300.0] * 10)], ("P99", 0.0))
    assert not impossible.qualifies
    assert impossible.model_latency_ms == 1  # sub-millisecond rounds up, never to 0


def test_stop_reasons() -> None:
    conditions = RecommendationJobStoppingConditions.model_validate(
        {
            "MaxInvocations": 5000,
            "ModelLatencyThresholds": [{"Percentile": "P99", "ValueInMilliseconds": 2}],
            "FlatInvocations": "Stop",
        }
    )
    assert stop_reason([phase([3000.0])], conditions) == "P99 latency exceeded the threshold"
    assert stop_reason([phase([100.0] * 100)], conditions) == "MaxInvocations reached"
    flat = [phase([100.0] * 10), phase([100.0] * 10)]
    assert stop_reason(flat, conditions) is not None
    assert stop_reason([phase([100.0] * 10)], conditions) is None


def test_rank_orders_qualifying_candidates_best_first() -> None:
    candidates = plan_candidates(request())
    one, two = candidates
    results = [
        (one, summarize([phase([100.0] * 10)], threshold_of(None))),
        (two, summarize([phase([100.0] * 20)], threshold_of(None))),
    ]
    assert [c.instance_count for c, _ in rank(results)] == [2, 1]
    late = [(one, summarize([phase([100.0])], ("P99", 0.0)))]
    assert rank(late) == []


def test_drive_runs_every_phase_with_the_users_asked_for() -> None:
    seen: list[bytes] = []
    in_flight = 0
    peak = 0

    async def invoke(body: bytes) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        seen.append(body)
        await asyncio.sleep(0.005)
        in_flight -= 1

    phases = [Phase(initial_number_of_users=2, spawn_rate=0, duration_in_seconds=1)]
    results, reason = asyncio.run(drive(invoke, [b"a", b"b"], phases, None, threading.Event()))
    assert reason is None
    assert results[0].users == 2
    assert peak == 2
    assert len(results[0].latencies_us) == len(seen) > 10
    assert {b"a", b"b"} == set(seen)
    assert all(latency >= 5000 for latency in results[0].latencies_us)


def test_drive_counts_errors_and_stops_when_asked() -> None:
    stop = threading.Event()

    async def invoke(body: bytes) -> None:
        stop.set()
        raise ModelError("the model broke")

    phases = [Phase(initial_number_of_users=1, spawn_rate=0, duration_in_seconds=30)] * 2
    results, reason = asyncio.run(drive(invoke, [b"x"], phases, None, stop))
    assert reason == "stopped"
    assert results[0].errors == 1
    assert results[0].first_error == "the model broke"
    assert results[0].seconds < 5
