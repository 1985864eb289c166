"""The event-stream encoder, read back by botocore's own decoder."""

from __future__ import annotations

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from lakeworks.server.aws.eventstream import encode_error, encode_event


def test_botocore_decodes_events_and_errors() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(encode_event("Records", b"a,b\n", "application/octet-stream"))
    buffer.add_data(encode_event("End"))
    buffer.add_data(encode_error("CastFailed", "Could not convert"))
    messages = list(buffer)
    assert [m.headers for m in messages] == [
        {
            ":event-type": "Records",
            ":message-type": "event",
            ":content-type": "application/octet-stream",
        },
        {":event-type": "End", ":message-type": "event"},
        {
            ":error-code": "CastFailed",
            ":error-message": "Could not convert",
            ":message-type": "error",
        },
    ]
    assert [m.payload for m in messages] == [b"a,b\n", b"", b""]


def test_a_corrupted_frame_fails_its_checksum() -> None:
    frame = bytearray(encode_event("Records", b"payload"))
    frame[-6] ^= 0xFF
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(frame))
    with pytest.raises(ChecksumMismatch):
        list(buffer)
