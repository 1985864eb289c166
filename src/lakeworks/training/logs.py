"""Training job logs as CloudWatch Logs presents them: one group, one stream per job.

Log group ``/aws/sagemaker/TrainingJobs``; a job's stream ``<job>/algo-1-<epoch seconds of its
start>`` exists once its first line has been ingested. Each complete log line is one event,
timestamped (milliseconds) when the server first read it — within the jobs poll interval while
the server runs; lines written while the server was down get the time it came back. Events
never change once ingested, so readers can resume by timestamp, as the SageMaker SDK's
``logs_for_job`` does (``startTime`` plus a count of events to skip).

Tokens: ``f/<seq>`` reads forward from event ``seq`` (``nextForwardToken``), ``b/<seq>``
backward from before it (``nextBackwardToken``); at the end of the stream the forward token
comes back unchanged and the page is empty, which is how CloudWatch clients know to stop.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.db import Database
from lakeworks.training import store

__all__ = [
    "LOG_GROUP",
    "describe_log_groups",
    "describe_log_streams",
    "filter_log_events",
    "get_log_events",
    "job_of_stream",
]

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
MAX_EVENTS = 10000
_TOKEN = re.compile(r"^([fb])/(\d{1,20})$")


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidParameterException")


def _check_group(group: str) -> None:
    if group != LOG_GROUP:
        raise NotFound(
            f"The specified log group does not exist: {group!r} (Lakeworks keeps {LOG_GROUP})",
            aws_code="ResourceNotFoundException",
        )


def _limit(limit: int | None, default: int, top: int) -> int:
    if limit is None:
        return default
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= top:
        raise _invalid(f"limit must be an integer from 1 to {top}, got {limit!r}")
    return limit


def job_of_stream(stream: str) -> str:
    """The training job a stream name belongs to (``<job>/algo-1-…``)."""
    return stream.split("/", 1)[0]


def describe_log_groups(db: Database, prefix: str | None) -> list[dict[str, Any]]:
    """The one log group, if it matches ``prefix``."""
    if prefix and not LOG_GROUP.startswith(prefix):
        return []
    with db.session() as session:
        stored = session.scalar(select(func.count()).select_from(store.LogEventRecord)) or 0
        first = session.scalar(select(func.min(store.TrainingJobRecord.creation_time)))
    return [
        {
            "logGroupName": LOG_GROUP,
            "creationTime": int(first.timestamp() * 1000) if first else 0,
            "storedBytes": int(stored),
            "metricFilterCount": 0,
        }
    ]


def _decode_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = raw["o"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise _invalid("The specified nextToken is invalid") from None
    if not isinstance(offset, int) or offset < 0:
        raise _invalid("The specified nextToken is invalid")
    return offset


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def describe_log_streams(
    db: Database,
    group: str,
    *,
    prefix: str | None = None,
    order_by: str = "LogStreamName",
    descending: bool = False,
    limit: int | None = None,
    next_token: str | None = None,
    arn_prefix: str,
) -> dict[str, Any]:
    """DescribeLogStreams over the training jobs' streams.

    Raises:
        NotFound: Another log group.
        ValidationError: A bad ``orderBy``/``limit``/token, or a prefix with LastEventTime.
    """
    _check_group(group)
    size = _limit(limit, 50, 50)
    if order_by not in ("LogStreamName", "LastEventTime"):
        raise _invalid(f"orderBy must be LogStreamName or LastEventTime, got {order_by!r}")
    if prefix and order_by == "LastEventTime":
        raise _invalid("Cannot order by LastEventTime with a logStreamNamePrefix")
    offset = _decode_offset(next_token)
    last_event = (
        select(
            store.LogEventRecord.job_name,
            func.min(store.LogEventRecord.timestamp).label("first"),
            func.max(store.LogEventRecord.timestamp).label("last"),
            func.max(store.LogEventRecord.ingestion_time).label("ingested"),
            func.sum(func.length(store.LogEventRecord.message)).label("bytes"),
        )
        .group_by(store.LogEventRecord.job_name)
        .subquery()
    )
    query = (
        select(store.TrainingJobRecord, last_event)
        .join(last_event, last_event.c.job_name == store.TrainingJobRecord.name)
        .where(store.TrainingJobRecord.log_stream.is_not(None))
    )
    if prefix:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(store.TrainingJobRecord.log_stream.like(f"{escaped}%", escape="\\"))
    column: Any = (
        store.TrainingJobRecord.log_stream if order_by == "LogStreamName" else last_event.c.last
    )
    query = query.order_by(column.desc() if descending else column).offset(offset).limit(size + 1)
    with db.session() as session:
        rows = session.execute(query).all()
    streams = []
    for row in rows[:size]:
        record: store.TrainingJobRecord = row[0]
        created = int(record.creation_time.timestamp() * 1000)
        streams.append(
            {
                "logStreamName": record.log_stream,
                "creationTime": created,
                "firstEventTimestamp": row.first,
                "lastEventTimestamp": row.last,
                "lastIngestionTime": row.ingested,
                "arn": f"{arn_prefix}:log-group:{LOG_GROUP}:log-stream:{record.log_stream}",
                "storedBytes": int(row.bytes or 0),
            }
        )
    result: dict[str, Any] = {"logStreams": streams}
    if len(rows) > size:
        result["nextToken"] = _encode_offset(offset + size)
    return result


def _stream_row(db: Database, stream: str) -> store.TrainingJobRecord:
    with db.session() as session:
        record = store.get_training(session, job_of_stream(stream))
    if record is None or record.log_stream != stream:
        raise NotFound(
            f"The specified log stream does not exist: {stream!r}",
            aws_code="ResourceNotFoundException",
        )
    return record


def _event(record: store.LogEventRecord) -> dict[str, Any]:
    return {
        "timestamp": record.timestamp,
        "message": record.message,
        "ingestionTime": record.ingestion_time,
    }


def get_log_events(
    db: Database,
    group: str,
    stream: str,
    *,
    start_time: int | None = None,
    end_time: int | None = None,
    next_token: str | None = None,
    limit: int | None = None,
    start_from_head: bool = False,
) -> dict[str, Any]:
    """GetLogEvents with CloudWatch's token semantics (see the module docstring).

    Raises:
        NotFound: Unknown group or stream.
        ValidationError: A malformed token or limit.
    """
    _check_group(group)
    record = _stream_row(db, stream)
    size = _limit(limit, MAX_EVENTS, MAX_EVENTS)
    if next_token:
        match = _TOKEN.match(next_token)
        if match is None:
            raise _invalid("The specified nextToken is invalid")
        forward, position = match.group(1) == "f", int(match.group(2))
    else:
        forward, position = start_from_head, 0 if start_from_head else record.log_events
    with db.session() as session:
        if forward:
            rows: Sequence[store.LogEventRecord] = store.query_events(
                session,
                record.name,
                seq_from=position,
                start_time=start_time,
                end_time=end_time,
                limit=size,
            )
        else:
            rows = list(
                reversed(
                    store.query_events(
                        session,
                        record.name,
                        seq_before=position,
                        start_time=start_time,
                        end_time=end_time,
                        limit=size,
                        newest_first=True,
                    )
                )
            )
    if rows:
        first, after = rows[0].seq, rows[-1].seq + 1
    else:
        first = after = position
    return {
        "events": [_event(r) for r in rows],
        "nextForwardToken": f"f/{after:020d}",
        "nextBackwardToken": f"b/{first:020d}",
    }


def _matches(message: str, terms: list[str]) -> bool:
    return all(term in message for term in terms)


def _filter_terms(pattern: str | None) -> list[str]:
    """A simple CloudWatch filter pattern: every term (or quoted phrase) must appear."""
    if not pattern or not pattern.strip():
        return []
    if pattern.strip().startswith(("{", "[")):
        raise _invalid(
            'Lakeworks supports term filter patterns only (words and "quoted phrases", all '
            "must appear), not JSON or space-delimited patterns"
        )
    return [a or b for a, b in re.findall(r'"([^"]*)"|(\S+)', pattern)]


def filter_log_events(
    db: Database,
    group: str,
    *,
    stream_names: list[str] | None = None,
    stream_prefix: str | None = None,
    start_time: int | None = None,
    end_time: int | None = None,
    filter_pattern: str | None = None,
    next_token: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """FilterLogEvents across the training jobs' streams, stream by stream, oldest first.

    Raises:
        NotFound: Unknown group.
        ValidationError: Both stream names and a prefix, a malformed token or limit, or a
            pattern form Lakeworks does not support.
    """
    _check_group(group)
    if stream_names and stream_prefix:
        raise _invalid("Give logStreamNames or logStreamNamePrefix, not both")
    size = _limit(limit, MAX_EVENTS, MAX_EVENTS)
    terms = _filter_terms(filter_pattern)
    query = select(store.TrainingJobRecord).where(store.TrainingJobRecord.log_stream.is_not(None))
    if stream_names:
        query = query.where(store.TrainingJobRecord.log_stream.in_(stream_names))
    elif stream_prefix:
        escaped = stream_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(store.TrainingJobRecord.log_stream.like(f"{escaped}%", escape="\\"))
    start_stream, start_seq = "", 0
    if next_token:
        try:
            raw = json.loads(base64.urlsafe_b64decode(next_token + "=" * (-len(next_token) % 4)))
            start_stream, start_seq = str(raw["s"]), int(raw["q"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise _invalid("The specified nextToken is invalid") from None
    with db.session() as session:
        records = session.scalars(query.order_by(store.TrainingJobRecord.log_stream)).all()
    events: list[dict[str, Any]] = []
    searched = []
    token: str | None = None
    for record in records:
        stream = str(record.log_stream)
        if stream < start_stream:
            continue
        seq = start_seq if stream == start_stream else 0
        searched.append({"logStreamName": stream, "searchedCompletely": True})
        while token is None:
            with db.session() as session:
                rows = store.query_events(
                    session,
                    record.name,
                    seq_from=seq,
                    start_time=start_time,
                    end_time=end_time,
                    limit=1000,
                )
            if not rows:
                break
            for row in rows:
                if not _matches(row.message, terms):
                    continue
                if len(events) == size:
                    token = _encode_token(stream, row.seq)
                    searched[-1]["searchedCompletely"] = False
                    break
                events.append(
                    {"logStreamName": stream, "eventId": f"{record.name}-{row.seq}", **_event(row)}
                )
            seq = rows[-1].seq + 1
        if token is not None:
            break
    result: dict[str, Any] = {"events": events, "searchedLogStreams": searched}
    if token is not None:
        result["nextToken"] = token
    return result


def _encode_token(stream: str, seq: int) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps({"s": stream, "q": seq}).encode()).decode().rstrip("=")
    )
