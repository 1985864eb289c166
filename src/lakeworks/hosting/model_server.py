"""The model server: one process per endpoint instance, ``python -m lakeworks.hosting.model_server
<worker.json>``.

It loads every container of its :class:`~lakeworks.hosting.worker_spec.WorkerSpec` (from local
directories the server prepared and checked), listens on a loopback port, writes that address to
the file named by ``$LAKEWORKS_SERVICE_ADDRESS_FILE`` (so the server finds it) and answers:

``GET /ping``
    200 once the models are loaded (the server binds only after loading, so always 200).
``POST /invocations``
    The request body through the containers: all of them in order (``Serial``, an inference
    pipeline: each container's response is the next one's request), or the one named by
    ``X-Amzn-SageMaker-Target-Container-Hostname`` (``Direct``). Errors come back as the
    status and the message as text; the router turns them into AWS's ``ModelError``.
``GET /execution-parameters``
    Batch transform's hints, as SageMaker's containers give them.

It predicts inline on its event loop: an instance is one core and a request at a time, the
shape of SageMaker's single-worker containers, and nothing is faster for a single row. Imports
only core, schemas and hosting's pure modules (see the import-linter contract): no database,
lake or server code, and it is started with an environment that holds no server secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import traceback
from pathlib import Path

from lakeworks.core.errors import LakeworksError
from lakeworks.hosting.handlers import Handler, Reply
from lakeworks.hosting.http1 import HttpRequest, HttpResponse, ServerProtocol
from lakeworks.hosting.multi_model import ModelCache
from lakeworks.hosting.worker_spec import ContainerPlan, WorkerSpec

__all__ = [
    "ADDRESS_ENV",
    "HIDDEN_FOR_XGBOOST",
    "MODEL_DIR_HEADER",
    "WorkerApp",
    "load_container",
    "main",
]

#: Where the address goes (set by the backend; see ``lakeworks.backends.base``).
ADDRESS_ENV = "LAKEWORKS_SERVICE_ADDRESS_FILE"
#: Header naming the staged directory of a multi-model request's target model.
MODEL_DIR_HEADER = "x-lakeworks-model-dir"
TARGET_CONTAINER_HEADER = "x-amzn-sagemaker-target-container-hostname"
ATTRIBUTES_HEADER = "x-amzn-sagemaker-custom-attributes"

#: What an XGBoost-only model server hides: XGBoost imports scikit-learn only for its estimator
#: wrappers, which serving never uses; without it a model server starts in a fraction of the time.
HIDDEN_FOR_XGBOOST = "sklearn"

log = logging.getLogger("lakeworks.model_server")


def load_container(plan: ContainerPlan, model_dir: Path, index: int = 0) -> Handler:
    """Load one container's model from ``model_dir`` with the handler its plan names.

    Raises:
        LakeworksError: The artifact is not a model of that kind (or is pickled).
        ScriptError: ``inference.py`` is missing or unusable.
    """
    default_accept = plan.default_accept or plan.environment.get(
        "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
    )
    if plan.kind == "builtin":
        from lakeworks.hosting.handlers.builtin import load_builtin

        batch = plan.environment.get("SAGEMAKER_BATCH") == "true"
        return load_builtin(model_dir, default_accept, plan.algorithm, batch=batch)
    from lakeworks.hosting.handlers.script import load_script

    assert plan.code_dir is not None
    assert plan.program is not None
    return load_script(
        model_dir,
        Path(plan.code_dir),
        plan.program,
        module_name=f"inference_{index}_{abs(hash(str(model_dir))) % 10**8}",
        default_accept=default_accept,
    )


class _Container:
    """A loaded container: one handler, or a cache of them (multi-model)."""

    def __init__(self, plan: ContainerPlan, index: int, cache_bytes: int) -> None:
        self.plan = plan
        self.handler: Handler | None = None
        self.cache: ModelCache[Handler] | None = None
        if plan.multi_model:
            self.cache = ModelCache(
                Path(plan.model_dir), cache_bytes, lambda d: load_container(plan, d, index)
            )
        else:
            self.handler = load_container(plan, Path(plan.model_dir), index)

    def handler_for(self, model_dir: str | None) -> Handler:
        if self.cache is None:
            assert self.handler is not None
            return self.handler
        if not model_dir:
            raise _Failure(400, "This is a multi-model endpoint: name a TargetModel")
        return self.cache.get(model_dir)


class _Failure(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class WorkerApp:
    """Answers the model server's routes for one :class:`WorkerSpec`.

    Args:
        spec: What to serve; every container is loaded here (multi-model ones lazily).
    """

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.containers = [
            _Container(plan, index, spec.cache_bytes) for index, plan in enumerate(spec.containers)
        ]

    def _invoke(self, request: HttpRequest) -> Reply:
        headers = request.headers
        body = request.body
        content_type = headers.get("content-type")
        accept = headers.get("accept")
        attributes = headers.get(ATTRIBUTES_HEADER)
        model_dir = headers.get(MODEL_DIR_HEADER)
        chain = self.containers
        if self.spec.execution_mode == "Direct":
            target = headers.get(TARGET_CONTAINER_HEADER)
            chosen = next((c for c in chain if c.plan.hostname == target), None)
            if target and chosen is None:
                names = ", ".join(c.plan.hostname for c in chain)
                raise _Failure(400, f"No container {target!r}; containers: {names}")
            chain = [chosen or chain[0]]
        reply = Reply(body, content_type or "")
        for position, container in enumerate(chain):
            last = position == len(chain) - 1
            try:
                reply = container.handler_for(model_dir).invoke(
                    reply.body,
                    reply.content_type or None,
                    accept if last else None,
                    attributes,
                )
            except _Failure:
                raise
            except LakeworksError as exc:
                raise _Failure(exc.status, exc.message) from None
            except Exception as exc:
                log.error("container %s failed:\n%s", container.plan.hostname, _trace(exc))
                raise _Failure(500, f"{type(exc).__name__}: {exc}") from None
        return reply

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Route one request (never raises)."""
        if request.path == "/invocations" and request.method == "POST":
            try:
                reply = self._invoke(request)
            except _Failure as exc:
                return HttpResponse(exc.status, str(exc).encode(), "text/plain; charset=utf-8")
            headers = {}
            if reply.custom_attributes:
                headers["X-Amzn-SageMaker-Custom-Attributes"] = reply.custom_attributes
            return HttpResponse(200, reply.body, reply.content_type, headers)
        if request.path == "/ping" and request.method == "GET":
            return HttpResponse(200, b"", "text/plain")
        if request.path == "/execution-parameters" and request.method == "GET":
            parameters = {
                "MaxConcurrentTransforms": 1,
                "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": 6,
            }
            return HttpResponse(200, json.dumps(parameters).encode(), "application/json")
        return HttpResponse(404, f"No route {request.method} {request.path}".encode())


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _write_address(path: Path, host: str, port: int) -> None:
    """Write the address atomically (temp file + rename), so the server never reads half."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"host": host, "port": port, "pid": os.getpid()}))
    os.replace(tmp, path)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # the server's own loop when uvicorn[standard] is installed

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is a dependency of uvicorn[standard]
        loop = asyncio.new_event_loop()
    return loop


def main(argv: list[str] | None = None) -> int:
    """Load the models of ``worker.json``, then serve until killed.

    Returns:
        1 when loading failed (the reason is the last line of the output), 2 on a usage error.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m lakeworks.hosting.model_server <worker.json>", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    spec = WorkerSpec.from_json(Path(args[0]).read_text())
    if all(c.kind == "builtin" and c.algorithm == "xgboost" for c in spec.containers):
        sys.modules.setdefault(HIDDEN_FOR_XGBOOST, None)  # type: ignore[arg-type]
    elif HIDDEN_FOR_XGBOOST in sys.modules and sys.modules[HIDDEN_FOR_XGBOOST] is None:
        # A spare process preloaded XGBoost without scikit-learn (see hosting.fleet): any other
        # model gets a fresh interpreter (same pid, its own environment), as without a spare.
        argv = [sys.executable, "-P", "-m", "lakeworks.hosting.model_server", *args]
        os.execv(sys.executable, argv)  # noqa: S606 - our own command, no shell, no user input
    try:
        app = WorkerApp(spec)
    except LakeworksError as exc:
        print(f"ClientError: {exc.message}", file=sys.stderr, flush=True)
        return 1
    except Exception as exc:
        print(_trace(exc), file=sys.stderr)
        print(f"Cannot load the model: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    loop = _new_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(lambda: ServerProtocol(app), "127.0.0.1", 0, backlog=1024)
    )
    port = server.sockets[0].getsockname()[1]
    address_file = os.environ.get(ADDRESS_ENV)
    if address_file:
        _write_address(Path(address_file), "127.0.0.1", port)
    log.info("model server for %s/%s listening on 127.0.0.1:%d", spec.endpoint, spec.variant, port)
    with contextlib.suppress(KeyboardInterrupt):
        loop.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
