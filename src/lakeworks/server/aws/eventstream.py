"""AWS event-stream framing (``application/vnd.amazon.eventstream``), as S3 Select answers.

A message is a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes), the
headers, the payload and a CRC32 of everything before it; integers are big-endian. Lakeworks
only sends string headers (type 7: a 2-byte length, then UTF-8), which is all S3 Select uses:
``:message-type`` (``event`` or ``error``), ``:event-type`` (``Records``, ``Stats``,
``Progress``, ``Cont``, ``End``), ``:content-type``, and ``:error-code``/``:error-message`` on
errors. botocore's ``EventStream`` parser reads these frames.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["encode_error", "encode_event", "encode_message"]

_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _header(name: str, value: str) -> bytes:
    raw_name = name.encode("utf-8")
    raw_value = value.encode("utf-8")
    if len(raw_name) > 255 or len(raw_value) > 65535:
        raise ValueError(f"event-stream header {name!r} is too long")
    return (
        bytes([len(raw_name)])
        + raw_name
        + bytes([_STRING])
        + struct.pack(">H", len(raw_value))
        + raw_value
    )


def encode_message(headers: dict[str, str], payload: bytes = b"") -> bytes:
    """One framed message with string ``headers`` and ``payload``."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = _PRELUDE.size + _CRC.size + len(encoded) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(encoded))
    head = prelude + _CRC.pack(zlib.crc32(prelude)) + encoded + payload
    return head + _CRC.pack(zlib.crc32(head))


def encode_event(event_type: str, payload: bytes = b"", content_type: str | None = None) -> bytes:
    """An ``event`` message of ``event_type`` (``Records``, ``Stats``, ``End`` …)."""
    headers = {":event-type": event_type, ":message-type": "event"}
    if content_type is not None:
        headers[":content-type"] = content_type
    return encode_message(headers, payload)


def encode_error(code: str, message: str) -> bytes:
    """An ``error`` message: the stream failed after it started (a cast failed mid-way …)."""
    return encode_message(
        {":error-code": code, ":error-message": message[:4096], ":message-type": "error"}
    )
