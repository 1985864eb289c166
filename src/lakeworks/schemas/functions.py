"""Functions (Lambda-compatible): the wire contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Base64Bytes, Field

from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "RUNTIMES",
    "FunctionCode",
    "FunctionCreate",
    "FunctionInfo",
    "InvocationInfo",
    "InvocationOutcome",
    "InvocationRequest",
    "NativeFunctionCode",
    "NativeFunctionCreate",
    "PermissionCreate",
]

#: Python runtimes accepted (all run with the server's own Python).
RUNTIMES = ("python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13")

FUNCTION_NAME = r"^[a-zA-Z0-9-_]{1,64}$"


class FunctionCode(RequestModel):
    """The code: a zip in the request (``zip_file``) or in the lake (``s3_bucket``/``s3_key``)."""

    zip_file: bytes | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    s3_object_version: str | None = None


class FunctionCreate(RequestModel):
    """Create a function."""

    function_name: str = Field(pattern=FUNCTION_NAME)
    runtime: Literal[
        "python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13"
    ]
    handler: str = Field(pattern=r"^[A-Za-z0-9_./-]+\.[A-Za-z_][A-Za-z0-9_]*$", max_length=128)
    code: FunctionCode
    role: str | None = Field(None, max_length=256)
    description: str = Field("", max_length=256)
    timeout: int = Field(3, ge=1, le=900)
    memory_size: int = Field(128, ge=128, le=10240)
    environment: dict[str, str] = Field(default_factory=dict)


class FunctionInfo(ResponseModel):
    """A function's configuration."""

    function_name: str
    function_arn: str
    runtime: str
    handler: str
    role: str | None
    description: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    code_sha256: str = Field(description="Base64 SHA-256 of the zip, as Lambda reports it")
    code_size: int
    last_modified: datetime


class PermissionCreate(RequestModel):
    """AddPermission: who may invoke the function."""

    statement_id: str = Field(pattern=r"^[a-zA-Z0-9-_]{1,100}$")
    action: str = Field(min_length=1, max_length=64)
    principal: str = Field(min_length=1, max_length=256)
    source_arn: str | None = Field(None, max_length=1024)
    source_account: str | None = Field(None, max_length=12)


class InvocationOutcome(ResponseModel):
    """The answer of a synchronous invocation."""

    status_code: int
    payload: Any = None
    function_error: str | None = None
    log_tail: str = ""
    invocation_type: Literal["RequestResponse", "Event", "DryRun"] = "RequestResponse"
    delivery_id: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class InvocationInfo(ResponseModel):
    """One recorded invocation and its output."""

    request_id: str
    function_name: str
    start_time: datetime
    end_time: datetime
    error_type: str | None = None
    error_message: str | None = None
    log: str = ""


class NativeFunctionCode(FunctionCode):
    """The code, through the native API: ``zip_file`` is base64 in JSON."""

    zip_file: Base64Bytes | None = None


class NativeFunctionCreate(FunctionCreate):
    """Create a function through the native API (the zip as base64)."""

    code: NativeFunctionCode

    def to_create(self) -> FunctionCreate:
        """The same request with the zip decoded, as the service takes it."""
        code = self.code.model_dump(exclude={"zip_file"}) | {"zip_file": self.code.zip_file}
        return FunctionCreate.model_validate(self.model_dump(exclude={"code"}) | {"code": code})


class InvocationRequest(RequestModel):
    """Invoke a function through the native API."""

    payload: Any = None
    invocation_type: Literal["RequestResponse", "Event", "DryRun"] = "RequestResponse"
