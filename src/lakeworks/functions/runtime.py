"""Execution environments: warm child processes that run a function's invocations.

As in Lambda, an environment is a process of the function's own (:mod:`lakeworks.functions.
invoke`) with a fresh environment — ``PATH``, the function's variables, credentials of its own
and ``AWS_ENDPOINT_URL`` — and nothing of the server's. It serves one invocation at a time and,
once idle, waits up to ``functions.warm_seconds`` for the next, so module-level set-up (imports,
clients) is paid once rather than per call. An invocation past its timeout kills its environment
and fails with "Task timed out after N seconds", as Lambda reports it; so does one whose process
dies. Environments are keyed by the function's code and configuration: after an update the old
ones are retired and never reused.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = ["EnvironmentSpec", "InvocationResult", "Runtime"]

_MAX_LOG = 64 * 1024
_ids = itertools.count(1)


@dataclass(frozen=True)
class InvocationResult:
    """What one invocation returned.

    Attributes:
        payload: The JSON answer (the handler's value, or Lambda's error document).
        function_error: ``"Unhandled"`` when the handler raised or timed out, else None.
        log_tail: The end of the invocation's output (stdout and stderr).
        request_id: The invocation's id (set by the service that recorded it).
        cold_start: Whether this invocation started its environment.
    """

    payload: Any
    function_error: str | None
    log_tail: str
    request_id: str = ""
    cold_start: bool = False


@dataclass(frozen=True)
class EnvironmentSpec:
    """How to start an environment for one version of a function.

    Attributes:
        function: The function's name (environments are retired by it).
        key: Code and configuration fingerprint; only an equal key reuses an environment.
        code_dir: The unpacked code (working directory and first import path).
        handler: ``module.function``.
        env: The process's variables but ``PATH`` and scratch paths.
        release: Called once the environment is gone (revokes its credentials).
    """

    function: str
    key: str
    code_dir: Path
    handler: str
    env: dict[str, str]
    release: Callable[[], None] = lambda: None


@dataclass
class _Environment:
    spec: EnvironmentSpec
    process: subprocess.Popen[bytes]
    requests: IO[bytes]
    replies: int
    log_path: Path
    scratch: tempfile.TemporaryDirectory[str]
    last_used: float = field(default_factory=time.monotonic)
    buffer: bytes = b""

    def log_since(self, offset: int) -> str:
        with contextlib.suppress(OSError), self.log_path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(offset, size - _MAX_LOG))
            return file.read().decode("utf-8", "replace")
        return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def read_reply(self, deadline: float) -> dict[str, Any] | None:
        """The next reply line, or None when the deadline passes.

        Raises:
            EOFError: The process closed its end (it exited).
        """
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.replies], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.requests.close()
        with contextlib.suppress(OSError):
            os.close(self.replies)
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.scratch.cleanup()
        self.spec.release()


class Runtime:
    """The pool of execution environments of every function.

    Args:
        warm_seconds: How long an idle environment waits for its next invocation; 0 runs each
            invocation in an environment of its own.
    """

    def __init__(self, warm_seconds: float) -> None:
        self.warm_seconds = warm_seconds
        self._idle: list[_Environment] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    def invoke(
        self, spec: Callable[[], EnvironmentSpec], key: str, event: Any, env: dict[str, str]
    ) -> InvocationResult:
        """Run one invocation in a warm environment for ``key``, or a new one from ``spec()``.

        Args:
            spec: Builds the environment's spec (and its credentials) when none is warm.
            key: The function version's fingerprint.
            event: The JSON-able event.
            env: This invocation's own variables (request id, timeout).
        """
        environment, cold = self._take(key), False
        if environment is None:
            environment, cold = self._start(spec()), True
        timeout = float(environment.spec.env.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
        offset = environment.log_size()
        request = json.dumps({"event": event, "env": env}).encode("utf-8") + b"\n"
        timed_out = False
        try:
            environment.requests.write(request)
            environment.requests.flush()
            reply = environment.read_reply(time.monotonic() + timeout)
            timed_out = reply is None
        except (OSError, ValueError, EOFError):
            reply = None
        if reply is None:
            if not timed_out:  # it closed its pipe: it is exiting
                with contextlib.suppress(subprocess.TimeoutExpired):
                    environment.process.wait(timeout=5)
            if environment.process.poll() is None:
                environment.process.kill()
                environment.process.wait()
            log = environment.log_since(offset)
            environment.stop()
            if timed_out:
                error = {
                    "errorMessage": f"Task timed out after {timeout:.2f} seconds",
                    "errorType": "Sandbox.Timedout",
                }
            else:
                error = {
                    "errorMessage": "The function process exited with code "
                    f"{environment.process.returncode}",
                    "errorType": "Runtime.ExitError",
                }
            return InvocationResult(error, "Unhandled", log, cold_start=cold)
        log = environment.log_since(offset)
        if reply.get("init"):
            environment.stop()
        else:
            self._give_back(environment)
        if "error" in reply:
            return InvocationResult(reply["error"], "Unhandled", log, cold_start=cold)
        return InvocationResult(reply.get("ok"), None, log, cold_start=cold)

    def retire(self, function: str) -> None:
        """Stop the idle environments of ``function`` (its code or configuration changed)."""
        with self._lock:
            gone = [e for e in self._idle if e.spec.function == function]
            self._idle = [e for e in self._idle if e.spec.function != function]
        for environment in gone:
            environment.stop()

    def close(self) -> None:
        """Stop every idle environment and the reaper."""
        self._stop.set()
        if self._reaper is not None:
            self._reaper.join(timeout=5)
        with self._lock:
            gone, self._idle = self._idle, []
        for environment in gone:
            environment.stop()

    # -- internals ---------------------------------------------------------------------------

    def _take(self, key: str) -> _Environment | None:
        with self._lock:
            for index in range(len(self._idle) - 1, -1, -1):
                environment = self._idle[index]
                if environment.spec.key == key and environment.process.poll() is None:
                    return self._idle.pop(index)
        return None

    def _give_back(self, environment: _Environment) -> None:
        if self.warm_seconds <= 0 or self._stop.is_set():
            environment.stop()
            return
        environment.last_used = time.monotonic()
        with self._lock:
            self._idle.append(environment)
            if self._reaper is None:
                self._reaper = threading.Thread(
                    target=self._reap, name="lakeworks-functions-reaper", daemon=True
                )
                self._reaper.start()

    def _reap(self) -> None:
        while not self._stop.wait(min(5.0, max(self.warm_seconds / 2, 0.05))):
            cutoff = time.monotonic() - self.warm_seconds
            with self._lock:
                gone = [e for e in self._idle if e.last_used < cutoff]
                self._idle = [e for e in self._idle if e.last_used >= cutoff]
            for environment in gone:
                environment.stop()

    @staticmethod
    def _start(spec: EnvironmentSpec) -> _Environment:
        scratch = tempfile.TemporaryDirectory(prefix="lakeworks-function-")
        log_path = Path(scratch.name) / "output.log"
        child_env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": scratch.name,
            "TMPDIR": scratch.name,
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            **spec.env,
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
        }
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        child_env["LAKEWORKS_FUNCTION_PIPES"] = f"{requests_read},{replies_write}"
        try:
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "lakeworks.functions.invoke", spec.handler],
                    cwd=spec.code_dir,
                    env=child_env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    pass_fds=(requests_read, replies_write),
                )
        except BaseException:
            for fd in (requests_write, replies_read):
                os.close(fd)
            scratch.cleanup()
            spec.release()
            raise
        finally:
            os.close(requests_read)
            os.close(replies_write)
        return _Environment(
            spec=spec,
            process=process,
            requests=os.fdopen(requests_write, "wb"),
            replies=replies_read,
            log_path=log_path,
            scratch=scratch,
        )
