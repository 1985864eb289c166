"""A function's execution environment: ``python -m lakeworks.functions.invoke HANDLER``.

Imports only the standard library (this process holds the function's credentials, never the
server's). Like a Lambda execution environment it serves many invocations, one at a time: the
handler (``module.function``) is imported from the working directory (the unpacked code) on the
first one, so module-level set-up runs once. Requests arrive as JSON lines on the first of the
two descriptors ``LAKEWORKS_FUNCTION_PIPES`` names — ``{"event": ..., "env": {...}}``, where
``env`` holds the invocation's own variables (its request id) — and each reply, ``{"ok": value}``
or ``{"error": {...}}`` in Lambda's error shape, goes back as one JSON line on the second. What
the handler prints goes to stdout and stderr, which the server reads as the invocation's log. A
handler that cannot be imported answers ``{"error": ..., "init": true}`` and the server discards
the environment.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["Context", "main"]


class Context:
    """The ``context`` argument Lambda passes to handlers (the commonly used subset)."""

    def __init__(self) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = "$LATEST"
        self.invoked_function_arn = os.environ.get("LAKEWORKS_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = os.environ.get("LAKEWORKS_REQUEST_ID", "")
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = self.aws_request_id
        timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    frames = traceback.format_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": [line.rstrip("\n") for line in frames[-10:]],
    }


def _load(handler: str) -> Callable[[Any, Context], Any]:
    module_name, _, function_name = handler.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler {handler!r}: expected module.function")
    function = getattr(importlib.import_module(module_name.replace("/", ".")), function_name)
    if not callable(function):
        raise TypeError(f"Handler {handler!r} is not callable")
    return function  # type: ignore[no-any-return]


def _invoke(function: Callable[[Any, Context], Any], event: Any) -> dict[str, Any]:
    try:
        value = function(event, Context())
        json.dumps(value)  # a result that is not JSON is the function's error
        return {"ok": value}
    except Exception as exc:
        traceback.print_exc()
        return {"error": _error(exc)}


def main() -> int:
    """Serve invocations until the server closes the request stream."""
    handler = sys.argv[1]
    sys.path.insert(0, os.getcwd())
    function: Callable[[Any, Context], Any] | None = None
    requests_fd, replies_fd = (int(fd) for fd in os.environ["LAKEWORKS_FUNCTION_PIPES"].split(","))
    with (
        os.fdopen(requests_fd, "r", encoding="utf-8") as requests,
        os.fdopen(replies_fd, "w", encoding="utf-8") as replies,
    ):
        for line in requests:
            request = json.loads(line)
            os.environ.update(request["env"])
            reply: dict[str, Any]
            if function is None:
                try:
                    function = _load(handler)
                except Exception as exc:
                    traceback.print_exc()
                    reply = {"error": _error(exc), "init": True}
            if function is not None:
                reply = _invoke(function, request["event"])
            sys.stdout.flush()
            sys.stderr.flush()
            replies.write(json.dumps(reply) + "\n")
            replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
