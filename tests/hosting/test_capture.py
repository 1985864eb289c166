"""Data capture: SageMaker's JSON-lines format, encodings, hourly keys, buffering."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

from lakeworks.hosting.capture import (
    CaptureBuffer,
    CaptureEvent,
    CapturePolicy,
    CaptureWriter,
    capture_key,
    capture_line,
)
from lakeworks.schemas.hosting import DataCaptureConfig

AT = datetime(2024, 5, 1, 13, 7, 9, 123000, tzinfo=UTC)


def _policy(**overrides: object) -> CapturePolicy:
    config = {
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": "s3://capture/data/",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        **overrides,
    }
    policy = CapturePolicy.from_config(DataCaptureConfig.model_validate(config))
    assert policy is not None
    return policy


def _event(**overrides: object) -> CaptureEvent:
    values: dict[str, object] = {
        "endpoint": "ep",
        "variant": "AllTraffic",
        "time": AT,
        "request_body": b"1,2,3",
        "request_type": "text/csv",
        "response_body": b"0.5",
        "response_type": "text/csv; charset=utf-8",
        "event_id": "e-1",
        "inference_id": "inf-7",
        **overrides,
    }
    return CaptureEvent(**values)  # type: ignore[arg-type]


def test_line_has_sagemakers_fields() -> None:
    line = json.loads(capture_line(_policy(), _event()))
    assert line == {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": "1,2,3",
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "text/csv; charset=utf-8",
                "mode": "OUTPUT",
                "data": "0.5",
                "encoding": "CSV",
            },
        },
        "eventMetadata": {
            "eventId": "e-1",
            "inferenceId": "inf-7",
            "inferenceTime": "2024-05-01T13:07:09Z",
        },
        "eventVersion": "0",
    }


def test_json_and_base64_encodings_and_capture_options() -> None:
    policy = _policy(
        CaptureOptions=[{"CaptureMode": "Input"}],
        CaptureContentTypeHeader={"JsonContentTypes": ["application/jsonlines"]},
    )
    line = json.loads(
        capture_line(policy, _event(request_body=b'{"a":1}', request_type="application/jsonlines"))
    )
    assert set(line["captureData"]) == {"endpointInput"}
    assert line["captureData"]["endpointInput"]["encoding"] == "JSON"
    binary = json.loads(
        capture_line(policy, _event(request_body=b"\x00\xff", request_type="image/png"))
    )
    payload = binary["captureData"]["endpointInput"]
    assert payload["encoding"] == "BASE64"
    assert base64.b64decode(payload["data"]) == b"\x00\xff"


def test_disabled_capture_has_no_policy() -> None:
    config = DataCaptureConfig.model_validate(
        {
            "EnableCapture": False,
            "InitialSamplingPercentage": 50,
            "DestinationS3Uri": "s3://capture",
            "CaptureOptions": [{"CaptureMode": "Input"}],
        }
    )
    assert CapturePolicy.from_config(config) is None


def test_keys_use_hourly_prefixes() -> None:
    key = capture_key("s3://capture/data", "ep", "AllTraffic", AT)
    assert re.fullmatch(
        r"s3://capture/data/ep/AllTraffic/2024/05/01/13/07-09-123-[0-9a-f-]{36}\.jsonl", key
    )


def test_buffer_groups_events_by_variant_and_hour_and_writer_flushes() -> None:
    buffer = CaptureBuffer()
    policy = _policy()
    buffer.add(policy, _event())
    buffer.add(policy, _event(event_id="e-2"))
    buffer.add(policy, _event(variant="Other"))
    buffer.add(policy, _event(time=AT.replace(hour=14)))
    written: dict[str, bytes] = {}
    writer = CaptureWriter(buffer, lambda uri, data, _endpoint: written.update({uri: data}), 60)
    assert writer.flush() == 3
    assert len(buffer) == 0
    files = {uri.split("/")[5] + "/" + uri.split("/")[9]: data for uri, data in written.items()}
    assert sorted(files) == ["AllTraffic/13", "AllTraffic/14", "Other/13"]
    lines = files["AllTraffic/13"].decode().splitlines()
    assert [json.loads(x)["eventMetadata"]["eventId"] for x in lines] == ["e-1", "e-2"]


def test_a_failing_lake_does_not_stop_the_writer() -> None:
    buffer = CaptureBuffer()
    buffer.add(_policy(), _event())

    def refuse(uri: str, data: bytes, endpoint: str) -> None:
        raise OSError("disk full")

    writer = CaptureWriter(buffer, refuse, 0.01)
    writer.start()
    writer.close()
    assert len(buffer) == 0
