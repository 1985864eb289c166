"""Training jobs: create, list, describe, stop; logs, metrics and learning curves
(``/api/v1/training-jobs``). Bodies use snake_case names; SageMaker's names are accepted too.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.jobs import JobStatus
from lakeworks.schemas.training import (
    TrainingJobCreate,
    TrainingJobInfo,
    TrainingJobMetrics,
    TrainingJobSummary,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform
from lakeworks.server.rest.listing import JobListing
from lakeworks.training.logs import LOG_GROUP

router = APIRouter(prefix="/api/v1", tags=["training"])

# Plain ``def`` routes run in the threadpool. ``response_model_by_alias=False``: native
# responses use the snake_case names (the aliases are SageMaker's, for the AWS front door).


@router.post("/training-jobs", status_code=201, response_model_by_alias=False)
def create_training_job(
    spec: TrainingJobCreate,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TrainingJobInfo:
    """Create a training job: a built-in algorithm or a framework script on data in the lake."""
    return platform.training.create_training_job(ctx, spec)


@router.get("/training-jobs", response_model_by_alias=False)
def list_training_jobs(
    status_equals: JobStatus | None = None,
    listing: JobListing = Depends(),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[TrainingJobSummary]:
    """List training jobs, newest first unless sorted otherwise."""
    return platform.training.list_training_jobs(ctx, status_equals=status_equals, **listing.kwargs)


@router.get("/training-jobs/{name}", response_model_by_alias=False)
def describe_training_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TrainingJobInfo:
    """Everything about one training job: state, transitions, timing, final metrics, artifact."""
    return platform.training.describe_training_job(ctx, name)


@router.post("/training-jobs/{name}/stop", response_model_by_alias=False)
def stop_training_job(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TrainingJobInfo:
    """Stop a training job; it ends Stopped (its model is uploaded if it saved one)."""
    return platform.training.stop_training_job(ctx, name)


@router.get("/training-jobs/{name}/metrics", response_model_by_alias=False)
def get_training_job_metrics(
    name: str,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> TrainingJobMetrics:
    """The run record: hyperparameters, every metric's series, final metrics, inputs with
    ETags and the artifact produced."""
    return platform.training.get_training_job_metrics(ctx, name)


@router.get("/training-jobs/{name}/learning-curve", response_class=Response)
def get_learning_curve(
    name: str,
    format: Literal["svg", "html"] = "svg",
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """The metric series drawn as a self-contained SVG image, or an HTML page around it."""
    body = platform.training.learning_curve(ctx, name, html=format == "html")
    media = "text/html; charset=utf-8" if format == "html" else "image/svg+xml"
    return Response(body, media_type=media)


@router.get("/training-jobs/{name}/log-events")
def get_training_job_log_events(
    name: str,
    next_token: str | None = Query(None, max_length=64),
    start_from_head: bool = True,
    start_time: int | None = Query(None, ge=0, description="Milliseconds since the epoch"),
    limit: int = Query(1000, ge=1, le=10000),
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> dict[str, Any]:
    """The job's log as timestamped events (the native twin of CloudWatch GetLogEvents).

    ``next_forward_token`` comes back unchanged, with no events, at the end of the log so far.
    """
    info = platform.training.describe_training_job(ctx, name)
    streams = platform.training.describe_log_streams(ctx, LOG_GROUP, prefix=f"{name}/", limit=1)[
        "logStreams"
    ]
    if not streams:
        return {
            "training_job_name": name,
            "training_job_status": info.training_job_status,
            "events": [],
            "next_forward_token": next_token,
            "next_backward_token": None,
        }
    page = platform.training.get_log_events(
        ctx,
        LOG_GROUP,
        streams[0]["logStreamName"],
        next_token=next_token,
        start_from_head=start_from_head,
        start_time=start_time,
        limit=limit,
    )
    return {
        "training_job_name": name,
        "training_job_status": info.training_job_status,
        "log_stream_name": streams[0]["logStreamName"],
        "events": page["events"],
        "next_forward_token": page["nextForwardToken"],
        "next_backward_token": page["nextBackwardToken"],
    }
