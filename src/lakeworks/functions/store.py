"""Tables of the functions domain; nothing outside this module touches them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lakeworks.db import Base

__all__ = ["FunctionRecord", "InvocationRecord"]


class FunctionRecord(Base):
    """One function: its configuration and the digest of its current code."""

    __tablename__ = "functions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    runtime: Mapped[str] = mapped_column(String(32))
    handler: Mapped[str] = mapped_column(String(128))
    role: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    timeout: Mapped[int] = mapped_column(Integer)
    memory_size: Mapped[int] = mapped_column(Integer)
    environment: Mapped[dict[str, Any]]
    code_sha256: Mapped[str] = mapped_column(String(64))
    code_size: Mapped[int] = mapped_column(Integer)
    #: AddPermission statements (``{"Sid", "Action", "Principal", "SourceArn"}``).
    permissions: Mapped[list[Any]]
    principal: Mapped[str] = mapped_column(String(128))
    creation_time: Mapped[datetime]
    last_modified: Mapped[datetime]


class InvocationRecord(Base):
    """One invocation of a function: when, how it ended, and its output (CloudWatch Logs)."""

    __tablename__ = "function_invocations"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    function_name: Mapped[str] = mapped_column(String(64), index=True)
    start_time: Mapped[datetime] = mapped_column(index=True)
    end_time: Mapped[datetime]
    #: None when the handler returned, else its error type.
    error_type: Mapped[str | None] = mapped_column(String(128))
    error_message: Mapped[str | None] = mapped_column(Text)
    #: The output (stdout and stderr), at most 64 KiB.
    log: Mapped[str] = mapped_column(Text)
