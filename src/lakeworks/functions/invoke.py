"""Runs one function invocation inside its own process: ``python -m lakeworks.functions.invoke``.

Imports only the standard library (this process holds the function's credentials, never the
server's). The handler (``module.function``) is imported from the working directory (the
unpacked code); the event is read as JSON from the file named by
``LAKEWORKS_FUNCTION_EVENT``; the result — ``{"ok": value}`` or ``{"error": {...}}`` in
Lambda's error shape — is written as JSON to ``LAKEWORKS_FUNCTION_RESULT``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
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


def main() -> int:
    """Import the handler, call it with the event, write the result; 0 unless broken."""
    handler = sys.argv[1]
    result_path = os.environ["LAKEWORKS_FUNCTION_RESULT"]
    with open(os.environ["LAKEWORKS_FUNCTION_EVENT"], encoding="utf-8") as file:
        event = json.load(file)
    sys.path.insert(0, os.getcwd())
    outcome: dict[str, Any]
    try:
        module_name, _, function_name = handler.rpartition(".")
        if not module_name:
            raise ValueError(f"Bad handler {handler!r}: expected module.function")
        function = getattr(importlib.import_module(module_name.replace("/", ".")), function_name)
        value = function(event, Context())
        json.dumps(value)  # a result that is not JSON is the function's error
        outcome = {"ok": value}
    except Exception as exc:
        traceback.print_exc()
        outcome = {"error": _error(exc)}
    with open(result_path, "w", encoding="utf-8") as file:
        json.dump(outcome, file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
