"""Shapes shared by every domain: request/response bases, pages, errors."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ErrorBody", "ErrorResponse", "Page", "RequestModel", "ResponseModel"]

T = TypeVar("T")


class RequestModel(BaseModel):
    """Base of request bodies: strict, unknown fields are a 400."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    """Base of response bodies: lenient, so newer servers can add fields."""

    model_config = ConfigDict(extra="ignore")


class Page(ResponseModel, Generic[T]):
    """One page of a list call; pass ``next_token`` back to get the next page."""

    items: list[T]
    next_token: str | None = None


class ErrorBody(ResponseModel):
    """The native error: a stable ``code``, a message for people, optional details."""

    code: str = Field(description="AWS-style error code, e.g. ValidationException")
    type: str = Field(description="Lakeworks exception class, e.g. ValidationError")
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None


class ErrorResponse(ResponseModel):
    """Envelope of every native error response."""

    error: ErrorBody
