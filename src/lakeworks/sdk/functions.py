"""Functions: ``client.functions`` — create, get, list, delete, invoke, invocations (logs)."""

from __future__ import annotations

import base64
import builtins
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.functions import (
    FunctionInfo,
    InvocationInfo,
    InvocationOutcome,
    InvocationRequest,
    NativeFunctionCreate,
)
from lakeworks.sdk._http import Transport, request_body

__all__ = ["Functions"]

_API = "/api/v1/functions"


def _path(name: str) -> str:
    return f"{_API}/{quote(name, safe='')}"


class Functions:
    """Lambda-compatible functions."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        function_name: str,
        *,
        handler: str,
        zip_file: bytes | Path | None = None,
        s3_bucket: str | None = None,
        s3_key: str | None = None,
        runtime: str = "python3.11",
        **fields: Any,
    ) -> FunctionInfo:
        """Create a function from a zip (bytes or a path here) or one in the lake.

        Raises:
            AlreadyExists: The name is taken.
            ValidationError: A bad or unsafe zip, a bad handler or runtime.
        """
        code: dict[str, Any] = {"s3_bucket": s3_bucket, "s3_key": s3_key}
        if zip_file is not None:
            data = zip_file.read_bytes() if isinstance(zip_file, Path) else zip_file
            code = {"zip_file": base64.b64encode(data).decode()}
        body = request_body(
            NativeFunctionCreate,
            None,
            function_name=function_name,
            handler=handler,
            runtime=runtime,
            code={k: v for k, v in code.items() if v is not None},
            **fields,
        )
        return self._t.model(FunctionInfo, "POST", _API, json=body)

    def get(self, name: str) -> FunctionInfo:
        """One function's configuration."""
        return self._t.model(FunctionInfo, "GET", _path(name))

    def list(self) -> builtins.list[FunctionInfo]:
        """Every function, by name."""
        return self._t.model(Page[FunctionInfo], "GET", _API).items

    def delete(self, name: str) -> None:
        """Delete a function."""
        self._t.request("DELETE", _path(name))

    def invoke(
        self, name: str, payload: Any = None, *, invocation_type: str = "RequestResponse"
    ) -> InvocationOutcome:
        """Invoke: RequestResponse answers now (``payload``, ``function_error``, ``log_tail``);
        Event queues it."""
        body = request_body(
            InvocationRequest, None, payload=payload, invocation_type=invocation_type
        )
        return self._t.model(InvocationOutcome, "POST", f"{_path(name)}/invocations", json=body)

    def invocations(self, name: str, *, max_results: int = 20) -> builtins.list[InvocationInfo]:
        """Recent invocations with their output, newest first."""
        params = {"max_results": max_results}
        path = f"{_path(name)}/invocations"
        return self._t.model(Page[InvocationInfo], "GET", path, params=params).items
