"""Inference recommendations jobs: create, describe, list, stop, list steps.

A job load-tests the model named in ``InputConfig.ModelName`` on each candidate endpoint
configuration (:func:`~lakeworks.hosting.recommender.plan.plan_candidates`), one temporary
endpoint per load test (:class:`~lakeworks.hosting.recommender.benchmark.Benchmark`), and
recommends the candidates that met the latency threshold with no errors, highest throughput
first. It runs on a thread of its own; the record holds the whole state (``PENDING`` →
``IN_PROGRESS`` → ``COMPLETED`` / ``FAILED`` with a reason / ``STOPPING`` → ``STOPPED``), so
Describe works after a restart. A job that no candidate qualified for is ``FAILED`` with the best
figures measured in the reason (SageMaker's ``InferenceRecommendations`` holds 1–10 entries: a
completed job always has one). A job an earlier server process left running is failed at start
and its temporary endpoints deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.names import arn, validate_tags
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.hosting import listing
from lakeworks.hosting.artifacts import ArtifactSource
from lakeworks.hosting.recommender import store
from lakeworks.hosting.recommender.benchmark import Benchmark, Outcome, remove_endpoint
from lakeworks.hosting.recommender.payloads import load_payloads
from lakeworks.hosting.recommender.plan import (
    Candidate,
    Measurement,
    check_request,
    phases_of,
    plan_candidates,
    rank,
    threshold_of,
)
from lakeworks.hosting.service import HostingService
from lakeworks.schemas.common import Page
from lakeworks.schemas.recommender import (
    InferenceRecommendation,
    RecommendationJobCreate,
    RecommendationJobInfo,
    RecommendationJobStatus,
    RecommendationJobStep,
    RecommendationJobSummary,
)

__all__ = ["InferenceRecommenderService"]

log = logging.getLogger("lakeworks.hosting")

SortBy = Literal["Name", "CreationTime", "Status"]
SortOrder = Literal["Ascending", "Descending"]
#: SageMaker's default job duration (seconds) when JobDurationInSeconds is not given.
DEFAULT_DURATION = 7200


def endpoint_name(job: str, index: int) -> str:
    """The temporary endpoint of the job's ``index``-th load test (a valid, unique name)."""
    digest = hashlib.sha256(job.encode()).hexdigest()[:8]
    return f"{job[:40].rstrip('-')}-{digest}-{index}"


class InferenceRecommenderService:
    """Inference recommendations jobs over :class:`HostingService`.

    Args:
        settings: The settings tree (``hosting.startup_timeout_seconds``).
        db: The metadata database.
        lake: Where sample payloads come from.
        hosting: Deploys and invokes the temporary endpoints.
        clock: Current UTC time.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        lake: ArtifactSource,
        hosting: HostingService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.lake = lake
        self.hosting = hosting
        self.clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stops: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._closing = False

    def start(self) -> None:
        """Fail the jobs an earlier process left running (deleting their endpoints); remember
        the event loop invocations run on."""
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()
        with self.db.session() as session:
            leftovers = [(r.name, list(r.endpoints)) for r in store.unfinished_jobs(session)]
        ctx = RequestContext.system()
        for name, endpoints in leftovers:
            for endpoint in endpoints:
                remove_endpoint(self.hosting, ctx, endpoint, 0.0)
            self._finish(
                name,
                "FAILED",
                "The server stopped while the job ran; create a new job to benchmark again",
                endpoints=[],
            )

    def close(self) -> None:
        """Ask running jobs to stop (their threads end as the server shuts down; a job left
        unfinished is failed at the next start)."""
        self._closing = True
        with self._lock:
            for event in self._stops.values():
                event.set()

    def _arn(self, name: str) -> str:
        return arn(
            "sagemaker",
            f"inference-recommendations-job/{name.lower()}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    # -- operations ------------------------------------------------------------------------------

    def create_inference_recommendations_job(
        self, ctx: RequestContext, request: RecommendationJobCreate
    ) -> RecommendationJobInfo:
        """Check the request and the payloads, record the job and start it.

        Raises:
            AccessDenied: The caller lacks the write scope.
            ValidationError: Unknown model, unsupported field, bad payload archive.
            AlreadyExists: A job of that name exists.
        """
        ctx.require("write")
        check_request(request)
        validate_tags({t.key: t.value for t in request.tags})
        model = request.input_config.model_name or ""
        try:
            self.hosting.describe_model(ctx, model)
        except NotFound:
            raise ValidationError(
                f"InputConfig.ModelName: could not find model {model!r}; create it with "
                "CreateModel first",
                details={"field": "InputConfig.ModelName"},
            ) from None
        container = request.input_config.container_config
        payload = container.payload_config if container else None
        payloads = load_payloads(
            self.lake, ctx, payload.sample_payload_url or "" if payload else ""
        )
        if self._loop is None:
            raise ValidationError(
                "Inference recommendations jobs need the server's event loop; run them through "
                "a started server (lakeworks serve)"
            )
        name, now = request.job_name, self.clock()
        record = store.RecommendationJobRecord(
            name=name,
            arn=self._arn(name),
            request=request.model_dump(mode="json", exclude_none=True),
            model_name=model,
            status="PENDING",
            failure_reason=None,
            steps=[],
            recommendations=[],
            endpoints=[],
            creation_time=now,
            last_modified_time=now,
            completion_time=None,
        )
        taken = AlreadyExists(f"An inference recommendations job named {name!r} already exists")
        try:
            with self.db.session() as session:
                if session.get(store.RecommendationJobRecord, name) is not None:
                    raise taken
                session.add(record)
        except IntegrityError:
            raise taken from None
        stop = threading.Event()
        with self._lock:
            self._stops[name] = stop
        thread = threading.Thread(
            target=self._run,
            args=(name, request, payloads, stop),
            name=f"lakeworks-recommender-{name}",
            daemon=True,
        )
        thread.start()
        return self.describe_inference_recommendations_job(ctx, name)

    def _record(self, name: str) -> store.RecommendationJobRecord:
        with self.db.session() as session:
            record = session.get(store.RecommendationJobRecord, name)
        if record is None:
            raise NotFound(
                f"Could not find inference recommendations job with name {name}",
                aws_code="ResourceNotFound",
            )
        return record

    def describe_inference_recommendations_job(
        self, ctx: RequestContext, name: str
    ) -> RecommendationJobInfo:
        """Everything about job ``name``.

        Raises:
            NotFound: No such job (ResourceNotFound).
        """
        ctx.require("read")
        record = self._record(name)
        request = RecommendationJobCreate.model_validate(record.request)
        return RecommendationJobInfo(
            job_name=record.name,
            job_description=request.job_description,
            job_type=request.job_type,
            job_arn=record.arn,
            role_arn=request.role_arn,
            status=record.status,
            creation_time=record.creation_time,
            completion_time=record.completion_time,
            last_modified_time=record.last_modified_time,
            failure_reason=record.failure_reason,
            input_config=request.input_config,
            stopping_conditions=request.stopping_conditions,
            inference_recommendations=[
                InferenceRecommendation.model_validate(r) for r in record.recommendations
            ]
            or None,
        )

    def list_inference_recommendations_jobs(
        self,
        ctx: RequestContext,
        *,
        status_equals: RecommendationJobStatus | None = None,
        name_contains: str | None = None,
        model_name_equals: str | None = None,
        creation_time_after: datetime | None = None,
        creation_time_before: datetime | None = None,
        sort_by: SortBy = "CreationTime",
        sort_order: SortOrder = "Descending",
        max_results: int = 10,
        next_token: str | None = None,
    ) -> Page[RecommendationJobSummary]:
        """List jobs with SageMaker's filters, sorting and paging.

        Raises:
            ValidationError: ``max_results`` outside 1..100, or a token from another listing.
        """
        ctx.require("read")
        with self.db.session() as session:
            rows = store.all_jobs(session)
        rows = [
            r
            for r in rows
            if listing.in_window(r, name_contains, creation_time_after, creation_time_before)
            and (status_equals is None or r.status == status_equals)
            and (model_name_equals is None or r.model_name == model_name_equals)
        ]
        return listing.page(
            rows,
            key=listing.sort_key(sort_by),
            descending=sort_order == "Descending",
            max_results=max_results,
            next_token=next_token,
            fingerprint=listing.fingerprint(
                "recommender",
                status_equals,
                name_contains,
                model_name_equals,
                creation_time_after,
                creation_time_before,
                sort_by,
                sort_order,
            ),
            convert=self._summary,
        )

    @staticmethod
    def _summary(record: store.RecommendationJobRecord) -> RecommendationJobSummary:
        request = RecommendationJobCreate.model_validate(record.request)
        container = request.input_config.container_config
        payload = container.payload_config if container else None
        return RecommendationJobSummary(
            job_name=record.name,
            job_description=request.job_description or "",
            job_type=request.job_type,
            job_arn=record.arn,
            status=record.status,
            creation_time=record.creation_time,
            completion_time=record.completion_time,
            role_arn=request.role_arn,
            last_modified_time=record.last_modified_time,
            failure_reason=record.failure_reason,
            model_name=record.model_name,
            sample_payload_url=payload.sample_payload_url if payload else None,
        )

    def stop_inference_recommendations_job(self, ctx: RequestContext, name: str) -> None:
        """Stop a job: ``STOPPING`` until the running load tests ended, then ``STOPPED``.

        Stopping a job that has ended changes nothing.

        Raises:
            NotFound: No such job (ResourceNotFound).
        """
        ctx.require("write")
        record = self._record(name)
        if record.status not in store.UNFINISHED:
            return
        with self._lock:
            event = self._stops.get(name)
        if event is not None:
            self._update(name, status="STOPPING")
            event.set()

    def list_inference_recommendations_job_steps(
        self,
        ctx: RequestContext,
        name: str,
        *,
        status: RecommendationJobStatus | None = None,
        max_results: int = 50,
        next_token: str | None = None,
    ) -> Page[RecommendationJobStep]:
        """The job's load tests (BENCHMARK steps) in the order they ended.

        Raises:
            NotFound: No such job (ResourceNotFound).
            ValidationError: ``max_results`` outside 1..100, or a foreign token.
        """
        ctx.require("read")
        steps = [RecommendationJobStep.model_validate(s) for s in self._record(name).steps]
        chosen = [s for s in steps if status is None or s.status == status]
        order = {id(s): i for i, s in enumerate(chosen)}
        return listing.page(
            chosen,
            key=lambda s: order[id(s)],
            descending=False,
            max_results=max_results,
            next_token=next_token,
            fingerprint=listing.fingerprint("recommender-steps", name, status),
            convert=lambda s: s,
        )

    # -- the job thread --------------------------------------------------------------------------

    def _update(self, name: str, **values: Any) -> None:
        with self._lock, self.db.session() as session:
            record = session.get(store.RecommendationJobRecord, name)
            if record is None:
                return
            for key, value in values.items():
                setattr(record, key, value)
            record.last_modified_time = self.clock()

    def _add_endpoint(self, name: str, endpoint: str, add: bool) -> None:
        with self._lock, self.db.session() as session:
            record = session.get(store.RecommendationJobRecord, name)
            if record is not None:
                kept = [e for e in record.endpoints if e != endpoint]
                record.endpoints = [*kept, endpoint] if add else kept

    def _add_step(self, name: str, outcome: Outcome) -> None:
        step = RecommendationJobStep(
            job_name=name,
            status=outcome.status,
            inference_benchmark=outcome.benchmark,
        )
        with self._lock, self.db.session() as session:
            record = session.get(store.RecommendationJobRecord, name)
            if record is not None:
                record.steps = [*record.steps, step.model_dump(mode="json", exclude_none=True)]

    def _finish(self, name: str, status: str, reason: str | None, **values: Any) -> None:
        now = self.clock()
        self._update(name, status=status, failure_reason=reason, completion_time=now, **values)

    def _run(
        self,
        name: str,
        request: RecommendationJobCreate,
        payloads: list[bytes],
        stop: threading.Event,
    ) -> None:
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            stop.set()

        seconds = request.input_config.job_duration_in_seconds or DEFAULT_DURATION
        deadline = threading.Timer(float(seconds), expire)
        deadline.daemon = True
        deadline.start()
        try:
            if not stop.is_set():  # a stop before the thread ran keeps STOPPING
                self._update(name, status="IN_PROGRESS")
            results = self._benchmark_all(name, request, payloads, stop)
            if self._closing:
                return  # the next start fails the job and deletes what is left
            if stop.is_set() and not expired.is_set():
                self._finish(name, "STOPPED", None)
                return
            self._conclude(name, request, results)  # on expiry: what was measured in time
        except Exception as exc:  # a bug, not a user mistake: the job fails, the server stays
            if self._closing:
                return
            log.exception("inference recommendations job %s failed", name)
            self._finish(name, "FAILED", f"Internal error: {exc}")
        finally:
            deadline.cancel()
            with self._lock:
                self._stops.pop(name, None)

    def _benchmark_all(
        self,
        name: str,
        request: RecommendationJobCreate,
        payloads: list[bytes],
        stop: threading.Event,
    ) -> list[tuple[Candidate, Outcome]]:
        assert self._loop is not None  # checked on create
        bench = Benchmark(self.hosting, self._loop, self.settings.hosting.startup_timeout_seconds)
        config = request.input_config
        container = config.container_config
        payload = container.payload_config if container else None
        content_type = (payload.supported_content_types or ["text/csv"])[0] if payload else ""
        phases = phases_of(request)
        threshold = threshold_of(request.stopping_conditions)
        candidates = plan_candidates(request)
        parallel = config.resource_limit.max_parallel_of_tests if config.resource_limit else None

        def one(index: int, candidate: Candidate) -> tuple[Candidate, Outcome]:
            endpoint = endpoint_name(name, index)
            if stop.is_set():
                return candidate, Outcome("STOPPED", {})
            self._add_endpoint(name, endpoint, add=True)
            try:
                outcome = bench.run(
                    name,
                    endpoint,
                    candidate,
                    config.model_name or "",
                    payloads,
                    content_type,
                    phases,
                    request.stopping_conditions,
                    threshold,
                    stop,
                )
            finally:
                self._add_endpoint(name, endpoint, add=False)
            self._add_step(name, outcome)
            return candidate, outcome

        with ThreadPoolExecutor(max_workers=parallel or 1) as pool:
            futures = [pool.submit(one, i, c) for i, c in enumerate(candidates)]
            return [f.result() for f in futures]

    def _conclude(
        self, name: str, request: RecommendationJobCreate, results: list[tuple[Candidate, Outcome]]
    ) -> None:
        measured = [(c, o.measurement) for c, o in results if o.measurement is not None]
        ranked = rank(measured)
        if not ranked:
            self._finish(name, "FAILED", self._why_none(request, results, measured))
            return
        outcomes = {id(c): o for c, o in results}
        recommendations = []
        for candidate, _ in ranked[:10]:
            outcome = outcomes[id(candidate)]
            benchmark = outcome.benchmark
            recommendation = InferenceRecommendation(
                recommendation_id=f"{name}/{uuid.uuid4().hex[:8]}",
                metrics=benchmark["metrics"],
                endpoint_configuration=benchmark["endpoint_configuration"],
                model_configuration={},
                invocation_start_time=outcome.start,
                invocation_end_time=outcome.end,
            )
            recommendations.append(recommendation.model_dump(mode="json", exclude_none=True))
        self._finish(name, "COMPLETED", None, recommendations=recommendations)

    @staticmethod
    def _why_none(
        request: RecommendationJobCreate,
        results: list[tuple[Candidate, Outcome]],
        measured: list[tuple[Candidate, Measurement]],
    ) -> str:
        if not measured:
            first = next(
                (o.benchmark.get("failure_reason") for _, o in results if o.benchmark), None
            )
            return f"Every load test failed; the first: {first or 'no load test ran'}"[:1024]
        percentile_name, limit_us = threshold_of(request.stopping_conditions)
        best = max((m for _, m in measured), key=lambda m: m.invocations_per_minute)
        limit = "none" if limit_us == float("inf") else f"{limit_us / 1000:g} ms"
        return (
            f"No endpoint configuration met the ModelLatencyThresholds ({percentile_name} <= "
            f"{limit}) without errors; the best measured {percentile_name} was "
            f"{best.latency_us / 1000:.3f} ms at {best.invocations_per_minute:.0f} invocations "
            f"per minute with {best.errors} errors. See ListInferenceRecommendationsJobSteps."
        )[:1024]
