"""Running one invocation: an isolated child process with the function's own environment.

The child (:mod:`lakeworks.functions.invoke`) gets a fresh environment — ``PATH``, the
function's variables, its short-lived credentials and ``AWS_ENDPOINT_URL`` — and nothing of the
server's. Past the function's timeout it is killed and the invocation fails with
"Task timed out after N seconds", as Lambda reports it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["InvocationResult", "run_handler"]

_MAX_LOG = 64 * 1024


@dataclass(frozen=True)
class InvocationResult:
    """What one invocation returned.

    Attributes:
        payload: The JSON answer (the handler's value, or Lambda's error document).
        function_error: ``"Unhandled"`` when the handler raised or timed out, else None.
        log_tail: The end of the invocation's output (stdout and stderr).
    """

    payload: Any
    function_error: str | None
    log_tail: str


def run_handler(
    code_dir: Path,
    handler: str,
    event: Any,
    env: dict[str, str],
    timeout: int,
) -> InvocationResult:
    """Run ``handler`` on ``event`` in a child process in ``code_dir``.

    Args:
        code_dir: The unpacked function code (the working directory and first import path).
        handler: ``module.function``.
        event: The JSON-able event.
        env: The child's whole environment but ``PATH`` (credentials included).
        timeout: Seconds before the child is killed.
    """
    with tempfile.TemporaryDirectory(prefix="lakeworks-invoke-") as scratch:
        event_path = Path(scratch) / "event.json"
        result_path = Path(scratch) / "result.json"
        event_path.write_text(json.dumps(event), encoding="utf-8")
        child_env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": scratch,
            "TMPDIR": scratch,
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            **env,
            "LAKEWORKS_FUNCTION_EVENT": str(event_path),
            "LAKEWORKS_FUNCTION_RESULT": str(result_path),
            "LAMBDA_TASK_ROOT": str(code_dir),
        }
        try:
            done = subprocess.run(
                [sys.executable, "-m", "lakeworks.functions.invoke", handler],
                cwd=code_dir,
                env=child_env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"") + (exc.stderr or b"")
            message = f"Task timed out after {timeout:.2f} seconds"
            return InvocationResult(
                {"errorMessage": message, "errorType": "Sandbox.Timedout"},
                "Unhandled",
                output[-_MAX_LOG:].decode("utf-8", "replace"),
            )
        log = (done.stdout + done.stderr)[-_MAX_LOG:].decode("utf-8", "replace")
        try:
            outcome = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            message = f"The function process exited with code {done.returncode}"
            return InvocationResult(
                {"errorMessage": message, "errorType": "Runtime.ExitError"}, "Unhandled", log
            )
        if "error" in outcome:
            return InvocationResult(outcome["error"], "Unhandled", log)
        return InvocationResult(outcome.get("ok"), None, log)
