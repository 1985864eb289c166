"""One load test of an inference recommendations job: deploy, drive load, measure, tear down.

A candidate is deployed as a temporary endpoint through :class:`HostingService` (an endpoint
config and an endpoint of the job's model, variant ``AllTraffic``) and driven, once
``InService``, by concurrent clients that send the sample payloads round robin through
:meth:`HostingService.invoke_endpoint` — the same path InvokeEndpoint takes, on the server's
event loop (where the model-server connections live). Latency is measured around that call, so it
is the model's time plus Lakeworks' routing, without the HTTP front door. The endpoint and its
config are deleted whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound
from lakeworks.hosting.recommender.plan import (
    MAX_USERS,
    Candidate,
    Measurement,
    PhaseResult,
    stop_reason,
    summarize,
)
from lakeworks.hosting.runtime import Invocation
from lakeworks.hosting.service import HostingService
from lakeworks.schemas.hosting import EndpointConfigCreate, EndpointCreate, ProductionVariant, Tag
from lakeworks.schemas.recommender import Phase, RecommendationJobStoppingConditions

__all__ = ["JOB_TAG", "VARIANT", "Benchmark", "Outcome", "drive"]

VARIANT = "AllTraffic"
#: Tag on the temporary endpoints and configs: the job that made them.
JOB_TAG = "lakeworks:inference-recommendations-job"
_POLL = 0.1
#: Seconds past the phases' total a load test may take (slow last invocations).
_GRACE = 120.0
_BACKOFF = 0.01  # after a failed invocation, so a broken endpoint is not hammered in a loop

Invoke = Callable[[bytes], Awaitable[Any]]


async def _drive_phase(
    invoke: Invoke, payloads: list[bytes], phase: Phase, stop: threading.Event
) -> PhaseResult:
    loop = asyncio.get_running_loop()
    started = loop.time()
    end = started + phase.duration_in_seconds
    result = PhaseResult(users=0, seconds=0.0)
    turn = itertools.count()

    async def user() -> None:
        while loop.time() < end and not stop.is_set():
            body = payloads[next(turn) % len(payloads)]
            sent = time.perf_counter()
            try:
                await invoke(body)
            except LakeworksError as exc:
                result.errors += 1
                result.first_error = result.first_error or exc.message
                await asyncio.sleep(_BACKOFF)
            else:
                result.latencies_us.append((time.perf_counter() - sent) * 1e6)

    tasks: list[asyncio.Task[None]] = []

    def spawn(count: int) -> None:
        for _ in range(max(0, min(count, MAX_USERS - len(tasks)))):
            tasks.append(asyncio.ensure_future(user()))

    spawn(phase.initial_number_of_users)
    while phase.spawn_rate and loop.time() + 1.0 < end and not stop.is_set():
        await asyncio.sleep(1.0)
        spawn(phase.spawn_rate)
    await asyncio.gather(*tasks)
    result.users = len(tasks)
    result.seconds = loop.time() - started
    return result


async def drive(
    invoke: Invoke,
    payloads: list[bytes],
    phases: list[Phase],
    conditions: RecommendationJobStoppingConditions | None,
    stop: threading.Event,
) -> tuple[list[PhaseResult], str | None]:
    """Run the phases one after another; stop early when :func:`stop_reason` says so.

    Returns:
        The phases run and why the rest were skipped (``None``: all ran).
    """
    results: list[PhaseResult] = []
    for phase in phases:
        if stop.is_set():
            return results, "stopped"
        results.append(await _drive_phase(invoke, payloads, phase, stop))
        reason = stop_reason(results, conditions)
        if reason is not None:
            return results, reason
    return results, None


@dataclass
class Outcome:
    """What one load test produced: a step (snake_case ``RecommendationJobStep`` fields)."""

    status: str
    benchmark: dict[str, Any]
    measurement: Measurement | None = None
    start: datetime | None = None
    end: datetime | None = None


class Benchmark:
    """Runs load tests of one job's candidates (from the job's thread).

    Args:
        hosting: Deploys, invokes and deletes the temporary endpoints.
        loop: The server's event loop (invocations run there).
        startup_timeout: Seconds an endpoint may take to become InService.
    """

    def __init__(
        self, hosting: HostingService, loop: asyncio.AbstractEventLoop, startup_timeout: float
    ) -> None:
        self.hosting = hosting
        self.loop = loop
        self.startup_timeout = startup_timeout
        self.ctx = RequestContext.system()

    def run(
        self,
        job: str,
        endpoint: str,
        candidate: Candidate,
        model_name: str,
        payloads: list[bytes],
        content_type: str,
        phases: list[Phase],
        conditions: RecommendationJobStoppingConditions | None,
        threshold: tuple[str, float],
        stop: threading.Event,
    ) -> Outcome:
        """Deploy ``candidate`` as ``endpoint``, drive the phases, delete it; never raises for
        a failure of the candidate (the outcome says FAILED with the reason)."""
        configuration = {"endpoint_name": endpoint, "variant_name": VARIANT, **candidate.variant}
        benchmark: dict[str, Any] = {"endpoint_configuration": configuration}
        try:
            setup = self._deploy(job, endpoint, candidate, model_name, stop)
            if stop.is_set():
                return Outcome("STOPPED", benchmark)
            start = utcnow()

            async def invoke(body: bytes) -> Any:
                request = Invocation(endpoint=endpoint, body=body, content_type=content_type)
                return await self.hosting.invoke_endpoint(self.ctx, request)

            future = asyncio.run_coroutine_threadsafe(
                drive(invoke, payloads, phases, conditions, stop), self.loop
            )
            budget = sum(p.duration_in_seconds for p in phases) + _GRACE
            results, _ = future.result(timeout=budget)  # bounded even if the loop stops
            end = utcnow()
        except LakeworksError as exc:
            benchmark["failure_reason"] = exc.message
            return Outcome("FAILED", benchmark)
        except TimeoutError:
            stop.set()  # the clients end at their next turn
            benchmark["failure_reason"] = "The load test did not end in time"
            return Outcome("FAILED", benchmark)
        finally:
            self._teardown(endpoint)
        measurement = summarize(results, threshold) if results else None
        benchmark.update(invocation_start_time=start, invocation_end_time=end)
        if measurement is None or measurement.invocations == 0:
            reason = measurement.first_error if measurement else None
            benchmark["failure_reason"] = reason or "no invocation succeeded"
            status = "STOPPED" if stop.is_set() else "FAILED"
            return Outcome(status, benchmark, start=start, end=end)
        benchmark.update(
            metrics={
                "cost_per_hour": 0.0,
                "cost_per_inference": 0.0,
                "max_invocations": round(measurement.invocations_per_minute),
                "model_latency": measurement.model_latency_ms,
                "model_setup_time": round(setup),
            },
            endpoint_metrics={
                "max_invocations": round(measurement.invocations_per_minute),
                "model_latency": measurement.model_latency_ms,
            },
            invocations=measurement.invocations,
            errors=measurement.errors,
            latency_p50_us=round(measurement.p50_us, 1),
            latency_p99_us=round(measurement.p99_us, 1),
            phases=[p.summary() for p in results],
        )
        if measurement.first_error:
            benchmark["failure_reason"] = f"{measurement.errors} errors; the first: " + (
                measurement.first_error
            )
        status = "STOPPED" if stop.is_set() else "COMPLETED"
        return Outcome(status, benchmark, measurement, start, end)

    def _deploy(
        self, job: str, endpoint: str, candidate: Candidate, model: str, stop: threading.Event
    ) -> float:
        """Create the endpoint and wait for InService; the seconds it took.

        Raises:
            LakeworksError: The endpoint failed or did not start in time (with the reason).
        """
        started = time.monotonic()
        tags = [Tag(key=JOB_TAG, value=job)]
        variant = ProductionVariant(variant_name=VARIANT, model_name=model, **candidate.variant)
        self.hosting.create_endpoint_config(
            self.ctx,
            EndpointConfigCreate(
                endpoint_config_name=endpoint, production_variants=[variant], tags=tags
            ),
        )
        self.hosting.create_endpoint(
            self.ctx,
            EndpointCreate(endpoint_name=endpoint, endpoint_config_name=endpoint, tags=tags),
        )
        while not stop.is_set():
            info = self.hosting.describe_endpoint(self.ctx, endpoint)
            if info.endpoint_status == "InService":
                break
            if info.endpoint_status not in ("Creating", "Updating"):
                raise LakeworksError(
                    f"The endpoint for this load test is {info.endpoint_status}: "
                    f"{info.failure_reason or 'no reason given'}"
                )
            if time.monotonic() - started > self.startup_timeout:
                raise LakeworksError(
                    f"The endpoint for this load test was not InService after "
                    f"{self.startup_timeout:.0f} s"
                )
            time.sleep(_POLL)
        return time.monotonic() - started

    def _teardown(self, endpoint: str) -> None:
        """Delete the endpoint (waiting until it is gone, so its processes stop before the
        next test) and its config; what does not exist is skipped."""
        remove_endpoint(self.hosting, self.ctx, endpoint, self.startup_timeout)


def remove_endpoint(
    hosting: HostingService, ctx: RequestContext, endpoint: str, timeout: float
) -> None:
    """Delete a temporary endpoint and its config, waiting up to ``timeout`` s for it to go."""
    with contextlib.suppress(NotFound):
        hosting.delete_endpoint(ctx, endpoint)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hosting.describe_endpoint(ctx, endpoint)  # NotFound once it is gone
            time.sleep(_POLL)
    with contextlib.suppress(NotFound):
        hosting.delete_endpoint_config(ctx, endpoint)
