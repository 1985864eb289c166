"""What an inference recommendations job tests and how it judges the results: pure functions.

* :func:`check_request` refuses what Lakeworks cannot do locally, naming the field and what is
  allowed.
* :func:`plan_candidates` turns ``EndpointConfigurations`` into load tests: each instance type at
  instance counts 1..N (N from ``MaxNumberOfTests``, at most :data:`MAX_INSTANCE_COUNT`), each
  serverless config once.
* :func:`phases_of` gives the traffic (``PHASES`` as given; ``STAIRS`` as equal steps).
* :func:`summarize` reduces a candidate's phases to one measurement: the highest throughput of a
  phase with no errors whose latency percentile meets the threshold;
  :func:`stop_reason` says when further phases are pointless; :func:`rank` orders the
  candidates that qualify, best first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.hosting import ProductionVariantServerlessConfig
from lakeworks.schemas.recommender import (
    EndpointInputConfiguration,
    Phase,
    RecommendationJobCreate,
    RecommendationJobStoppingConditions,
)

__all__ = [
    "DEFAULT_INSTANCE_TYPE",
    "DEFAULT_PHASES",
    "MAX_INSTANCE_COUNT",
    "MAX_PARALLEL_TESTS",
    "MAX_USERS",
    "Candidate",
    "Measurement",
    "PhaseResult",
    "check_request",
    "percentile",
    "phases_of",
    "plan_candidates",
    "rank",
    "stop_reason",
    "summarize",
    "threshold_of",
]

DEFAULT_INSTANCE_TYPE = "ml.m5.large"
#: The traffic of a Default job that names none: one user more per second for 30 s.
DEFAULT_PHASES = (Phase(initial_number_of_users=1, spawn_rate=1, duration_in_seconds=30),)
#: Most instances of one candidate (every instance is a model-server process on this machine).
MAX_INSTANCE_COUNT = 4
#: Counts tested per instance type when ``MaxNumberOfTests`` is not given.
DEFAULT_INSTANCE_COUNTS = 2
MAX_PARALLEL_TESTS = 4
#: Most concurrent clients one phase drives.
MAX_USERS = 64
#: A phase whose throughput grew less than this over the previous one is "flat".
FLAT_GROWTH = 0.05


def _refuse(field_name: str, message: str) -> ValidationError:
    return ValidationError(f"{field_name}: {message}", details={"field": field_name})


def check_request(request: RecommendationJobCreate) -> None:
    """Refuse what Lakeworks does not do; the schema checked types and ranges already.

    Raises:
        ValidationError: Naming the field, what is wrong and what is allowed.
    """
    config = request.input_config
    if config.model_package_version_arn is not None:
        raise _refuse(
            "InputConfig.ModelPackageVersionArn",
            "Lakeworks has no model registry yet; benchmark a model made with CreateModel by "
            "giving InputConfig.ModelName",
        )
    if not config.model_name:
        raise _refuse("InputConfig.ModelName", "name the model to benchmark (CreateModel)")
    unsupported = {
        "InputConfig.Endpoints": config.endpoints,
        "InputConfig.VpcConfig": config.vpc_config,
        "InputConfig.VolumeKmsKeyId": config.volume_kms_key_id,
        "OutputConfig": request.output_config,
    }
    for name, value in unsupported.items():
        if value:
            raise _refuse(
                name,
                "not supported by Lakeworks: it benchmarks temporary endpoints it deploys from "
                "InputConfig.ModelName on this machine; leave it out",
            )
    for index, endpoint in enumerate(config.endpoint_configurations or []):
        _check_endpoint_configuration(index, endpoint)
    payload = config.container_config.payload_config if config.container_config else None
    if payload is None or not payload.sample_payload_url:
        raise _refuse(
            "InputConfig.ContainerConfig.PayloadConfig.SamplePayloadUrl",
            "give the s3:// URI of a tar.gz of sample payloads (one request body per file)",
        )
    if not payload.supported_content_types:
        raise _refuse(
            "InputConfig.ContainerConfig.PayloadConfig.SupportedContentTypes",
            "name the content type of the sample payloads, e.g. ['text/csv']",
        )
    phases_of(request)  # raises on a traffic pattern that cannot be driven
    limit = config.resource_limit
    if limit and (limit.max_parallel_of_tests or 1) > MAX_PARALLEL_TESTS:
        raise _refuse(
            "InputConfig.ResourceLimit.MaxParallelOfTests",
            f"at most {MAX_PARALLEL_TESTS} load tests run at once on one machine, got "
            f"{limit.max_parallel_of_tests}",
        )
    for threshold in _thresholds(request.stopping_conditions):
        if threshold.percentile is None or threshold.value_in_milliseconds is None:
            raise _refuse(
                "StoppingConditions.ModelLatencyThresholds",
                "each threshold needs Percentile (P95 or P99) and ValueInMilliseconds",
            )


def _check_endpoint_configuration(index: int, endpoint: EndpointInputConfiguration) -> None:
    where = f"InputConfig.EndpointConfigurations[{index}]"
    if endpoint.inference_specification_name or endpoint.environment_parameter_ranges:
        raise _refuse(
            where,
            "InferenceSpecificationName and EnvironmentParameterRanges are not supported; "
            "give InstanceType or ServerlessConfig",
        )
    if (endpoint.instance_type is None) == (endpoint.serverless_config is None):
        raise _refuse(where, "give exactly one of InstanceType and ServerlessConfig")


def phases_of(request: RecommendationJobCreate) -> list[Phase]:
    """The phases every candidate is driven through.

    Raises:
        ValidationError: A traffic pattern without phases or stairs, or too many users.
    """
    pattern = request.input_config.traffic_pattern
    if pattern is None:
        if request.job_type == "Advanced":
            raise _refuse(
                "InputConfig.TrafficPattern",
                "an Advanced job needs a TrafficPattern (TrafficType PHASES with Phases, or "
                "STAIRS with Stairs)",
            )
        return list(DEFAULT_PHASES)
    if pattern.traffic_type == "STAIRS":
        stairs = pattern.stairs
        if stairs is None or None in (
            stairs.duration_in_seconds,
            stairs.number_of_steps,
            stairs.users_per_step,
        ):
            raise _refuse(
                "InputConfig.TrafficPattern.Stairs",
                "STAIRS traffic needs DurationInSeconds, NumberOfSteps and UsersPerStep",
            )
        steps, users = stairs.number_of_steps or 1, stairs.users_per_step or 1
        seconds = max(1, (stairs.duration_in_seconds or 1) // steps)
        phases = [
            Phase(
                initial_number_of_users=users * (i + 1), spawn_rate=0, duration_in_seconds=seconds
            )
            for i in range(steps)
        ]
    elif not pattern.phases:
        raise _refuse("InputConfig.TrafficPattern.Phases", "PHASES traffic needs 1 or more phases")
    else:
        phases = list(pattern.phases)
    for index, phase in enumerate(phases):  # spawning stops at MAX_USERS: only the start counts
        if phase.initial_number_of_users > MAX_USERS:
            raise _refuse(
                f"InputConfig.TrafficPattern.Phases[{index}].InitialNumberOfUsers",
                f"at most {MAX_USERS} concurrent users, got {phase.initial_number_of_users}",
            )
    return phases


@dataclass(frozen=True)
class Candidate:
    """One load test: an instance type at a count, or a serverless config."""

    variant: dict[str, Any]

    @property
    def instance_type(self) -> str | None:
        """The instance type, if not serverless."""
        value = self.variant.get("instance_type")
        return str(value) if value is not None else None

    @property
    def instance_count(self) -> int | None:
        """The instance count, if not serverless."""
        value = self.variant.get("initial_instance_count")
        return int(value) if value is not None else None


def plan_candidates(request: RecommendationJobCreate) -> list[Candidate]:
    """The load tests of the job, cheapest first, at most ``MaxNumberOfTests`` of them."""
    configs = request.input_config.endpoint_configurations or [
        EndpointInputConfiguration(instance_type=DEFAULT_INSTANCE_TYPE)
    ]
    limit = request.input_config.resource_limit
    max_tests = limit.max_number_of_tests if limit else None
    typed = [c for c in configs if c.instance_type is not None]
    if max_tests is None:
        counts = DEFAULT_INSTANCE_COUNTS
    else:
        counts = max(1, min(MAX_INSTANCE_COUNT, -(-max_tests // max(1, len(typed)))))
    by_count: list[Candidate] = []
    for count in range(1, counts + 1):
        for config in typed:
            by_count.append(
                Candidate({"instance_type": config.instance_type, "initial_instance_count": count})
            )
    serverless = [
        Candidate({"serverless_config": _dump(c.serverless_config)})
        for c in configs
        if c.serverless_config is not None
    ]
    planned = serverless + by_count
    return planned[:max_tests] if max_tests is not None else planned


def _dump(config: ProductionVariantServerlessConfig | None) -> dict[str, Any]:
    return config.model_dump(exclude_none=True) if config is not None else {}


def _thresholds(conditions: RecommendationJobStoppingConditions | None) -> list[Any]:
    return list(conditions.model_latency_thresholds or []) if conditions else []


def threshold_of(conditions: RecommendationJobStoppingConditions | None) -> tuple[str, float]:
    """``(percentile, microseconds)`` of the latency threshold; ``("P99", inf)`` if none."""
    for threshold in _thresholds(conditions):
        return threshold.percentile, float(threshold.value_in_milliseconds) * 1000.0
    return "P99", math.inf


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..100) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank_ = max(1, math.ceil(share / 100.0 * len(ordered)))
    return ordered[min(rank_, len(ordered)) - 1]


@dataclass
class PhaseResult:
    """What one phase of load measured."""

    users: int
    seconds: float
    latencies_us: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    @property
    def per_minute(self) -> float:
        """Successful invocations per minute."""
        return len(self.latencies_us) * 60.0 / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The phase as reported in the step (native extras)."""
        return {
            "users": self.users,
            "seconds": round(self.seconds, 3),
            "invocations": len(self.latencies_us),
            "errors": self.errors,
            "invocations_per_minute": round(self.per_minute, 1),
            "latency_p50_us": round(percentile(self.latencies_us, 50), 1),
            "latency_p95_us": round(percentile(self.latencies_us, 95), 1),
            "latency_p99_us": round(percentile(self.latencies_us, 99), 1),
        }


@dataclass(frozen=True)
class Measurement:
    """A candidate's result: its best qualifying phase, or its best phase if none qualified."""

    invocations_per_minute: float
    latency_us: float
    p50_us: float
    p99_us: float
    invocations: int
    errors: int
    qualifies: bool
    first_error: str | None

    @property
    def model_latency_ms(self) -> int:
        """Latency as SageMaker reports it: whole milliseconds, rounded up (0 only for none)."""
        return math.ceil(self.latency_us / 1000.0)


def _share(name: str) -> float:
    return 95.0 if name == "P95" else 99.0


def summarize(phases: list[PhaseResult], threshold: tuple[str, float]) -> Measurement:
    """Reduce a candidate's phases: the fastest error-free phase meeting the threshold.

    Args:
        phases: The phases run (at least one).
        threshold: ``(percentile, microseconds)`` from :func:`threshold_of`.
    """
    name, limit = threshold
    share = _share(name)

    def meets(phase: PhaseResult) -> bool:
        return (
            phase.errors == 0
            and bool(phase.latencies_us)
            and percentile(phase.latencies_us, share) <= limit
        )

    qualifying = [p for p in phases if meets(p)]
    pool = qualifying or phases
    best = max(pool, key=lambda p: p.per_minute)
    return Measurement(
        invocations_per_minute=best.per_minute,
        latency_us=percentile(best.latencies_us, share),
        p50_us=percentile(best.latencies_us, 50),
        p99_us=percentile(best.latencies_us, 99),
        invocations=sum(len(p.latencies_us) for p in phases),
        errors=sum(p.errors for p in phases),
        qualifies=bool(qualifying),
        first_error=next((p.first_error for p in phases if p.first_error), None),
    )


def stop_reason(
    phases: list[PhaseResult],
    conditions: RecommendationJobStoppingConditions | None,
) -> str | None:
    """Why a candidate's remaining phases need not run (more load only makes it worse)."""
    last = phases[-1]
    name, limit = threshold_of(conditions)
    if last.latencies_us and percentile(last.latencies_us, _share(name)) > limit:
        return f"{name} latency exceeded the threshold"
    if conditions and conditions.max_invocations and last.per_minute >= conditions.max_invocations:
        return "MaxInvocations reached"
    if (
        conditions
        and conditions.flat_invocations == "Stop"
        and len(phases) > 1
        and last.per_minute < phases[-2].per_minute * (1 + FLAT_GROWTH)
    ):
        return "invocations stopped growing (FlatInvocations Stop)"
    return None


def rank(results: list[tuple[Candidate, Measurement]]) -> list[tuple[Candidate, Measurement]]:
    """The qualifying candidates, highest throughput first (fewer instances, then lower latency
    break ties)."""
    qualifying = [(c, m) for c, m in results if m.qualifies]
    return sorted(
        qualifying,
        key=lambda cm: (-cm[1].invocations_per_minute, cm[0].instance_count or 0, cm[1].latency_us),
    )
