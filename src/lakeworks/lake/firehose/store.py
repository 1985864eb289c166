"""Tables of the delivery-streams domain; nothing outside this module touches them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lakeworks.db import Base

__all__ = ["DeliveryStreamRecord"]


class DeliveryStreamRecord(Base):
    """One delivery stream: its destination and the principal its deliveries act as.

    Its records live in a write-ahead log under ``<home>/firehose/<stream_id>``, not here.
    """

    __tablename__ = "delivery_streams"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: Names the stream's write-ahead log directory (a recreated name gets a fresh log).
    stream_id: Mapped[str] = mapped_column(String(32), unique=True)
    arn: Mapped[str] = mapped_column(String(256))
    #: The :class:`~lakeworks.schemas.firehose.S3Destination`, as JSON.
    destination: Mapped[dict[str, Any]]
    extended: Mapped[bool]
    tags: Mapped[dict[str, Any]]
    version: Mapped[int]
    principal: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]]
    create_time: Mapped[datetime]
