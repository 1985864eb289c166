"""CloudWatch Logs groups of functions, Glue runs and transform jobs, read from their output.

``/aws/lambda/<function>``: one stream per invocation (``YYYY/MM/DD/[$LATEST]<request id>``)
with Lambda's ``START``/``END``/``REPORT`` lines around the output. ``/aws-glue/python-jobs/
output``: one stream per job run (named by the run id) with the script's output.
``/aws/sagemaker/TransformJobs``: one stream per started transform job, named as SageMaker
names it, ``<job>/<instance id>-<epoch seconds of its start>`` (the instance id is derived from
the job's ARN, so it never changes), with the job's complete output lines. Events are the
lines, timestamped when the invocation, run or job started (``END``/``REPORT`` when it ended):
output only grows, so the SageMaker SDK's ``(timestamp, skip)`` positions stay valid.

Tokens are ``f/<index>`` (forward from event ``index``) and ``b/<index>`` (backward from before
it); at the end of a stream the forward token comes back unchanged with no events.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.server.platform import Platform

__all__ = [
    "GLUE_OUTPUT",
    "LAMBDA_PREFIX",
    "TRANSFORM_GROUP",
    "describe",
    "events",
    "filter_events",
    "groups",
    "owns",
]

LAMBDA_PREFIX = "/aws/lambda/"
GLUE_OUTPUT = "/aws-glue/python-jobs/output"
TRANSFORM_GROUP = "/aws/sagemaker/TransformJobs"
_MAX = 10000
#: The most of one transform job's output served as events (its native logs hold it all).
_TRANSFORM_LOG_BYTES = 16 * 1024 * 1024
_TOKEN = re.compile(r"^([fb])/(\d{1,9})$")


@dataclass
class _Stream:
    name: str
    created: int
    events: list[tuple[int, str]] = field(default_factory=list)


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidParameterException")


def owns(group: str) -> bool:
    """Whether ``group`` is one of the groups this module serves."""
    return group.startswith(LAMBDA_PREFIX) or group in (GLUE_OUTPUT, TRANSFORM_GROUP)


def _lambda_streams(platform: Platform, ctx: RequestContext, function: str) -> list[_Stream]:
    try:
        invocations = platform.functions.list_invocations(ctx, function, 1000)
    except NotFound:
        raise NotFound(
            f"The specified log group does not exist: {LAMBDA_PREFIX}{function}",
            aws_code="ResourceNotFoundException",
        ) from None
    streams = []
    for inv in invocations:
        rid, start, end = inv.request_id, _ms(inv.start_time), _ms(inv.end_time)
        name = inv.start_time.strftime("%Y/%m/%d/") + "[$LATEST]" + rid.replace("-", "")
        lines = [(start, f"START RequestId: {rid} Version: $LATEST")]
        lines += [(start, line) for line in inv.log.splitlines()]
        if inv.error_type:
            lines.append((end, f"{inv.error_type}: {inv.error_message or ''}"))
        lines.append((end, f"END RequestId: {rid}"))
        lines.append((end, f"REPORT RequestId: {rid}\tDuration: {end - start:.2f} ms"))
        streams.append(_Stream(name, start, lines))
    return sorted(streams, key=lambda s: s.name)


def _glue_streams(platform: Platform, ctx: RequestContext) -> list[_Stream]:
    streams = []
    for job in platform.etl.get_jobs(ctx):
        for run in platform.etl.get_job_runs(ctx, job.name, 200):
            start = _ms(run.started_on)
            try:
                text = platform.etl.read_run_logs(ctx, job.name, run.id, limit=1024 * 1024).data
            except NotFound:
                text = ""
            streams.append(_Stream(run.id, start, [(start, line) for line in text.splitlines()]))
    return sorted(streams, key=lambda s: s.name)


def _transform_output(platform: Platform, ctx: RequestContext, job: str) -> list[str]:
    """The job's complete output lines (a last line still being written waits for its end)."""
    text, offset, complete = "", 0, False
    while not complete and offset < _TRANSFORM_LOG_BYTES:
        page = platform.transform.read_transform_job_logs(ctx, job, offset=offset, limit=1 << 20)
        text += page.data
        complete = page.complete
        if page.next_offset == offset:
            break
        offset = page.next_offset
    lines = text.split("\n")
    if not complete or not lines[-1]:
        lines.pop()  # unfinished, or the empty remainder after the final newline
    return lines


def _transform_streams(platform: Platform, ctx: RequestContext, job: str | None) -> list[_Stream]:
    names, token = [job] if job is not None else [], None
    while job is None:
        page = platform.transform.list_transform_jobs(
            ctx, sort_by="Name", sort_order="Ascending", max_results=100, next_token=token
        )
        names += [summary.transform_job_name for summary in page.items]
        token = page.next_token
        if token is None:
            break
    jobs = []
    for name in names:
        with contextlib.suppress(NotFound):  # an unknown job has no stream
            jobs.append(platform.transform.describe_transform_job(ctx, name))
    streams = []
    for info in jobs:
        if info.transform_start_time is None:
            continue  # as on SageMaker, a stream appears once the instance starts
        start = _ms(info.transform_start_time)
        instance = "i-" + hashlib.sha256(info.transform_job_arn.encode()).hexdigest()[:17]
        name = f"{info.transform_job_name}/{instance}-{start // 1000}"
        lines = _transform_output(platform, ctx, info.transform_job_name)
        streams.append(_Stream(name, start, [(start, line) for line in lines]))
    return sorted(streams, key=lambda s: s.name)


def _streams(
    platform: Platform, ctx: RequestContext, group: str, job: str | None = None
) -> list[_Stream]:
    """The group's streams; ``job`` (the part of a stream name before ``/``) narrows them."""
    if group == GLUE_OUTPUT:
        return _glue_streams(platform, ctx)
    if group == TRANSFORM_GROUP:
        return _transform_streams(platform, ctx, job)
    return _lambda_streams(platform, ctx, group[len(LAMBDA_PREFIX) :])


def groups(platform: Platform, ctx: RequestContext, prefix: str | None) -> list[dict[str, Any]]:
    """DescribeLogGroups entries: each function's group and Glue's output group."""
    names = [LAMBDA_PREFIX + f.function_name for f in platform.functions.list_functions(ctx)]
    names += [GLUE_OUTPUT, TRANSFORM_GROUP]
    return [
        {"logGroupName": name, "creationTime": 0, "storedBytes": 0, "metricFilterCount": 0}
        for name in sorted(names)
        if not prefix or name.startswith(prefix)
    ]


def _limit(limit: int | None) -> int:
    if limit is None:
        return _MAX
    if not 1 <= limit <= _MAX:
        raise _invalid(f"limit must be an integer from 1 to {_MAX}, got {limit}")
    return limit


def describe(
    platform: Platform,
    ctx: RequestContext,
    group: str,
    *,
    prefix: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    **_: Any,
) -> dict[str, Any]:
    """DescribeLogStreams of one group (one page)."""
    job = prefix.split("/", 1)[0] if prefix and "/" in prefix else None
    streams = [
        s for s in _streams(platform, ctx, group, job) if not prefix or s.name.startswith(prefix)
    ]
    if descending:
        streams.reverse()
    return {
        "logStreams": [
            {
                "logStreamName": s.name,
                "creationTime": s.created,
                "firstEventTimestamp": s.events[0][0] if s.events else s.created,
                "lastEventTimestamp": s.events[-1][0] if s.events else s.created,
                "storedBytes": sum(len(m) for _, m in s.events),
            }
            for s in streams[: _limit(limit)]
        ]
    }


def events(
    platform: Platform,
    ctx: RequestContext,
    group: str,
    stream: str,
    *,
    next_token: str | None = None,
    limit: int | None = None,
    start_from_head: bool = False,
    start_time: int | None = None,
    end_time: int | None = None,
    **_: Any,
) -> dict[str, Any]:
    """GetLogEvents of one stream, with CloudWatch's forward/backward tokens.

    Tokens index the events in ``[start_time, end_time)``, so pass the same times with them.

    Raises:
        NotFound: No such stream (``ResourceNotFoundException``).
        ValidationError: A malformed token or limit.
    """
    found = [s for s in _streams(platform, ctx, group, stream.split("/", 1)[0]) if s.name == stream]
    if not found:
        raise NotFound(
            f"The specified log stream does not exist: {stream}",
            aws_code="ResourceNotFoundException",
        )
    rows = [
        (t, m)
        for t, m in found[0].events
        if (start_time is None or t >= start_time) and (end_time is None or t < end_time)
    ]
    size = _limit(limit)
    if next_token:
        match = _TOKEN.match(next_token)
        if match is None:
            raise _invalid("The specified nextToken is invalid")
        forward, position = match.group(1) == "f", min(int(match.group(2)), len(rows))
    else:
        forward, position = start_from_head, 0 if start_from_head else len(rows)
    first, after = (position, min(len(rows), position + size))
    if not forward:
        first, after = max(0, position - size), position
    return {
        "events": [
            {"timestamp": t, "message": m, "ingestionTime": t} for t, m in rows[first:after]
        ],
        "nextForwardToken": f"f/{after}",
        "nextBackwardToken": f"b/{first}",
    }


def filter_events(
    platform: Platform,
    ctx: RequestContext,
    group: str,
    *,
    stream_names: list[str] | None = None,
    stream_prefix: str | None = None,
    filter_pattern: str | None = None,
    start_time: int | None = None,
    end_time: int | None = None,
    limit: int | None = None,
    **_: Any,
) -> dict[str, Any]:
    """FilterLogEvents: lines containing every term of ``filter_pattern`` (one page)."""
    terms = [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', filter_pattern or "")]
    size, found = _limit(limit), []
    for s in _streams(platform, ctx, group):
        if stream_names and s.name not in stream_names:
            continue
        if stream_prefix and not s.name.startswith(stream_prefix):
            continue
        for index, (t, message) in enumerate(s.events):
            in_time = (start_time is None or t >= start_time) and (end_time is None or t < end_time)
            if in_time and all(term in message for term in terms):
                found.append(
                    {
                        "logStreamName": s.name,
                        "eventId": f"{s.name}-{index}",
                        "timestamp": t,
                        "message": message,
                        "ingestionTime": t,
                    }
                )
    return {"events": found[:size], "searchedLogStreams": []}
