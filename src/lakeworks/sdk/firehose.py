"""Delivery streams: ``client.delivery_streams`` — create, get, list, delete, put, flush."""

from __future__ import annotations

import base64
import builtins
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.firehose import (
    MAX_BATCH_RECORDS,
    DeliveryStream,
    DeliveryStreamCreate,
    RecordsPutResult,
)
from lakeworks.sdk._http import Transport, request_body

__all__ = ["DeliveryStreams"]

_API = "/api/v1/delivery-streams"


def _path(name: str) -> str:
    return f"{_API}/{quote(name, safe='')}"


class DeliveryStreams:
    """Firehose-compatible delivery streams into the lake."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, name: str, bucket: str, **destination: Any) -> DeliveryStream:
        """Create a stream delivering to ``bucket`` (``prefix``, ``buffering_hints`` … as in
        :class:`~lakeworks.schemas.firehose.S3Destination`).

        Raises:
            AlreadyExists: The name is taken.
            NotFound: No such bucket (or schema table).
            ValidationError: Bad prefixes or settings; the message says which.
        """
        body = request_body(
            DeliveryStreamCreate,
            None,
            delivery_stream_name=name,
            s3_destination={"bucket_arn": f"arn:aws:s3:::{bucket}", **destination},
        )
        return self._t.model(DeliveryStream, "POST", _API, json=body)

    def get(self, name: str) -> DeliveryStream:
        """One stream, with records acknowledged and delivered."""
        return self._t.model(DeliveryStream, "GET", _path(name))

    def list(self) -> builtins.list[DeliveryStream]:
        """Every stream, by name."""
        out: builtins.list[DeliveryStream] = []
        token: str | None = None
        while True:
            params = {"next_token": token} if token else None
            page = self._t.model(Page[DeliveryStream], "GET", _API, params=params)
            out.extend(page.items)
            token = page.next_token
            if not token:
                return out

    def delete(self, name: str) -> None:
        """Delete a stream."""
        self._t.request("DELETE", _path(name))

    def put(self, name: str, records: Iterable[bytes]) -> builtins.list[str]:
        """Append records (sent in batches of 500); their ids, once all are on disk."""
        ids: builtins.list[str] = []
        batch: builtins.list[str] = []
        for record in records:
            batch.append(base64.b64encode(record).decode())
            if len(batch) == MAX_BATCH_RECORDS:
                ids.extend(self._put(name, batch))
                batch = []
        if batch:
            ids.extend(self._put(name, batch))
        return ids

    def _put(self, name: str, batch: builtins.list[str]) -> builtins.list[str]:
        result = self._t.model(
            RecordsPutResult, "POST", f"{_path(name)}/records", json={"records": batch}
        )
        return result.record_ids

    def flush(self, name: str) -> DeliveryStream:
        """Deliver what the stream holds now, whatever its buffering hints."""
        return self._t.model(DeliveryStream, "POST", f"{_path(name)}/flush")
