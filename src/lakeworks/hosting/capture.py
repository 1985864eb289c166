"""Data capture: a sample of requests and responses, written to the lake as SageMaker writes it.

With a ``DataCaptureConfig`` an endpoint keeps ``InitialSamplingPercentage`` % of its
invocations. Each kept invocation becomes one JSON line::

    {"captureData": {
        "endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                           "data": "1,2,3", "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                           "data": "0.5", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "…", "inferenceId": "…", "inferenceTime": "2024-05-01T12:00:00Z"},
     "eventVersion": "0"}

``encoding`` is ``CSV`` for the CSV content types (``text/csv`` unless CaptureContentTypeHeader
says otherwise), ``JSON`` for the JSON ones (``application/json``), else ``BASE64``; CaptureOptions
choose the input, the output or both. Lines are buffered in memory and written off the request
path every ``hosting.capture_flush_seconds``, one object per endpoint, variant and hour:
``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`` — the layout
model monitoring reads.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lakeworks.schemas.hosting import DataCaptureConfig

__all__ = [
    "CaptureBuffer",
    "CaptureEvent",
    "CapturePolicy",
    "CaptureWriter",
    "capture_key",
    "capture_line",
]

log = logging.getLogger("lakeworks.hosting")

DEFAULT_CSV_TYPES = ("text/csv",)
DEFAULT_JSON_TYPES = ("application/json",)
EVENT_VERSION = "0"


@dataclass(frozen=True)
class CapturePolicy:
    """An endpoint's capture settings, ready for the request path."""

    percentage: float
    destination: str
    capture_input: bool
    capture_output: bool
    csv_types: frozenset[str]
    json_types: frozenset[str]

    @classmethod
    def from_config(cls, config: DataCaptureConfig) -> CapturePolicy | None:
        """The policy of a config, or None when capture is off."""
        if not config.enable_capture:
            return None
        modes = {option.capture_mode for option in config.capture_options}
        header = config.capture_content_type_header
        csv = header.csv_content_types if header and header.csv_content_types else None
        jsn = header.json_content_types if header and header.json_content_types else None
        return cls(
            percentage=float(config.initial_sampling_percentage),
            destination=config.destination_s3_uri.rstrip("/"),
            capture_input=bool(modes & {"Input", "InputAndOutput"}),
            capture_output=bool(modes & {"Output", "InputAndOutput"}),
            csv_types=frozenset(t.lower() for t in (csv or DEFAULT_CSV_TYPES)),
            json_types=frozenset(t.lower() for t in (jsn or DEFAULT_JSON_TYPES)),
        )

    def encoding(self, content_type: str | None) -> str:
        """``CSV``, ``JSON`` or ``BASE64`` for a body of ``content_type``."""
        bare = (content_type or "").split(";", 1)[0].strip().lower()
        if bare in self.csv_types:
            return "CSV"
        if bare in self.json_types:
            return "JSON"
        return "BASE64"


@dataclass(frozen=True)
class CaptureEvent:
    """One captured invocation, as the request path hands it over."""

    endpoint: str
    variant: str
    time: datetime
    request_body: bytes
    request_type: str | None
    response_body: bytes
    response_type: str | None
    event_id: str
    inference_id: str | None = None


def _payload(body: bytes, content_type: str | None, mode: str, encoding: str) -> dict[str, Any]:
    if encoding == "BASE64":
        data = base64.b64encode(body).decode()
    else:
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            encoding, data = "BASE64", base64.b64encode(body).decode()
    return {
        "observedContentType": content_type or "",
        "mode": mode,
        "data": data,
        "encoding": encoding,
    }


def capture_line(policy: CapturePolicy, event: CaptureEvent) -> str:
    """The JSON line of one event, in SageMaker's capture format."""
    capture: dict[str, Any] = {}
    if policy.capture_input:
        capture["endpointInput"] = _payload(
            event.request_body,
            event.request_type,
            "INPUT",
            policy.encoding(event.request_type),
        )
    if policy.capture_output:
        capture["endpointOutput"] = _payload(
            event.response_body,
            event.response_type,
            "OUTPUT",
            policy.encoding(event.response_type),
        )
    metadata: dict[str, Any] = {"eventId": event.event_id}
    if event.inference_id:
        metadata["inferenceId"] = event.inference_id
    metadata["inferenceTime"] = event.time.strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {"captureData": capture, "eventMetadata": metadata, "eventVersion": EVENT_VERSION},
        separators=(",", ":"),
    )


def capture_key(destination: str, endpoint: str, variant: str, time: datetime) -> str:
    """The ``s3://`` URI of a new capture file for events of ``time``'s hour."""
    stamp = time.strftime("%Y/%m/%d/%H")
    name = f"{time.strftime('%M-%S')}-{time.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    return f"{destination}/{endpoint}/{variant}/{stamp}/{name}"


class CaptureBuffer:
    """Captured lines waiting to be written; appended on the request path, drained by a writer.

    ``deque.append`` is atomic, so the request path takes no lock.
    """

    def __init__(self, max_events: int = 100_000) -> None:
        self._events: deque[tuple[CapturePolicy, CaptureEvent]] = deque(maxlen=max_events)

    def add(self, policy: CapturePolicy, event: CaptureEvent) -> None:
        """Queue one event (the oldest is dropped past ``max_events``)."""
        self._events.append((policy, event))

    def __len__(self) -> int:
        return len(self._events)

    def drain(self) -> list[tuple[str, str, list[str]]]:
        """Take every queued event, grouped into files: ``(capture URI, endpoint, lines)``."""
        groups: dict[tuple[str, str, str, str], tuple[datetime, list[str]]] = {}
        while self._events:
            policy, event = self._events.popleft()
            hour = event.time.strftime("%Y%m%d%H")
            key = (policy.destination, event.endpoint, event.variant, hour)
            _, lines = groups.setdefault(key, (event.time, []))
            lines.append(capture_line(policy, event))
        return [
            (capture_key(destination, endpoint, variant, first), endpoint, lines)
            for (destination, endpoint, variant, _), (first, lines) in groups.items()
        ]


class CaptureWriter:
    """Writes a :class:`CaptureBuffer` to the lake every ``interval`` seconds, on its own thread.

    Args:
        buffer: What to write.
        put: Stores one capture file (``s3://`` URI, bytes, the endpoint it belongs to).
        interval: Seconds between writes.
    """

    def __init__(
        self,
        buffer: CaptureBuffer,
        put: Callable[[str, bytes, str], None],
        interval: float,
    ) -> None:
        self.buffer = buffer
        self.put = put
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the writer thread."""
        self._thread = threading.Thread(target=self._run, name="lakeworks-capture", daemon=True)
        self._thread.start()

    def flush(self) -> int:
        """Write what is queued now; returns the number of files written."""
        written = 0
        for uri, endpoint, lines in self.buffer.drain():
            try:
                self.put(uri, ("\n".join(lines) + "\n").encode(), endpoint)
                written += 1
            except Exception as exc:  # the lake refusing must not kill the writer
                log.warning("data capture: cannot write %s (%d events): %s", uri, len(lines), exc)
        return written

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
