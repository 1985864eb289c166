"""The model server in process: routes, pipelines, errors; and the HTTP/1.1 hop it speaks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from lakeworks.hosting.http1 import (
    ConnectionPool,
    HttpRequest,
    HttpResponse,
    ProtocolError,
    ServerProtocol,
)
from lakeworks.hosting.model_server import WorkerApp
from lakeworks.hosting.worker_spec import ContainerPlan, WorkerSpec

SCALE = """
def model_fn(model_dir):
    return 2.0

def transform_fn(model, data, content_type, accept):
    rows = [[float(v) * model for v in line.split(",")] for line in data.splitlines() if line]
    return "\\n".join(",".join(str(v) for v in row) for row in rows), "text/csv"
"""


def _scaler(tmp_path: Path, hostname: str) -> ContainerPlan:
    code = tmp_path / hostname / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text(SCALE)
    return ContainerPlan(
        hostname=hostname,
        kind="script",
        image="sagemaker-scikit-learn",
        model_dir=str(tmp_path / hostname),
        code_dir=str(code),
        program="inference.py",
    )


def _xgboost(directory: Path) -> ContainerPlan:
    return ContainerPlan(hostname="xgb", kind="builtin", image="xgboost", model_dir=str(directory))


def _post(app: WorkerApp, body: bytes, **headers: str) -> HttpResponse:
    merged = {"content-type": "text/csv", **{k.replace("_", "-"): v for k, v in headers.items()}}
    return app(HttpRequest("POST", "/invocations", merged, body))


def test_serial_pipeline_feeds_each_answer_to_the_next(
    tmp_path: Path, xgboost_dir: Path, booster: xgb.Booster
) -> None:
    spec = WorkerSpec("ep", "v", (_scaler(tmp_path, "pre"), _xgboost(xgboost_dir)), "Serial")
    app = WorkerApp(spec)
    response = _post(app, b"0.1,0.1,0.1,0.1")
    assert response.status == 200
    expected = booster.inplace_predict(np.array([[0.2] * 4], dtype=np.float32))[0]
    assert float(response.body) == pytest.approx(float(expected))


def test_direct_mode_runs_the_targeted_container(tmp_path: Path, xgboost_dir: Path) -> None:
    spec = WorkerSpec("ep", "v", (_scaler(tmp_path, "pre"), _xgboost(xgboost_dir)), "Direct")
    app = WorkerApp(spec)
    assert _post(app, b"1,2").body == b"2.0,4.0"  # the first container by default
    header = "x-amzn-sagemaker-target-container-hostname"
    answer = app(HttpRequest("POST", "/invocations", {header: "pre"}, b"3"))
    assert answer.body == b"6.0"
    missing = app(HttpRequest("POST", "/invocations", {header: "nope"}, b"3"))
    assert missing.status == 400
    assert b"No container 'nope'" in missing.body


def test_errors_come_back_as_status_and_message(xgboost_dir: Path) -> None:
    app = WorkerApp(WorkerSpec("ep", "v", (_xgboost(xgboost_dir),)))
    wrong = _post(app, b"1,2,3")
    assert wrong.status == 400
    assert b"trained on 4" in wrong.body
    assert _post(app, b"1,2,3,4", content_type="image/png").status == 415
    assert app(HttpRequest("GET", "/ping", {}, b"")).status == 200
    assert app(HttpRequest("GET", "/nope", {}, b"")).status == 404
    params = json.loads(app(HttpRequest("GET", "/execution-parameters", {}, b"")).body)
    assert params["BatchStrategy"] == "MULTI_RECORD"


def test_a_failing_model_is_a_500_with_its_message(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text(
        "def model_fn(d):\n    return None\n"
        "def transform_fn(m, data, ct, accept):\n    raise RuntimeError('the model broke')\n"
    )
    plan = ContainerPlan("primary", "script", "img", str(tmp_path), str(code), "inference.py")
    response = _post(WorkerApp(WorkerSpec("ep", "v", (plan,))), b"1")
    assert response.status == 500
    assert response.body == b"RuntimeError: the model broke"


def test_http_hop_keeps_connections_alive_and_reports_breaks() -> None:
    seen: list[HttpRequest] = []

    def app(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse(200, request.body[::-1], "text/plain", {"X-Extra": "1"})

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: ServerProtocol(app), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = ConnectionPool("127.0.0.1", port)
        for body in (b"abc", b"", b"x" * 100_000):
            status, headers, answer = await pool.request("POST", "/r", {"A": "b"}, body)
            assert (status, answer, headers["x-extra"]) == (200, body[::-1], "1")
        assert len(pool._idle) == 1  # one connection, reused
        assert seen[0].headers["a"] == "b"
        server.close()
        await server.wait_closed()
        pool.close()

    asyncio.run(scenario())


def test_a_dead_server_breaks_the_request_instead_of_hanging() -> None:
    async def scenario() -> None:
        async def half_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(half_answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = ConnectionPool("127.0.0.1", port)
        with pytest.raises(ProtocolError):
            await asyncio.wait_for(pool.request("POST", "/", {}, b"x"), 5)
        server.close()
        await server.wait_closed()
        with pytest.raises(ConnectionRefusedError):
            await pool.request("POST", "/", {}, b"x")

    asyncio.run(scenario())


def test_chunked_requests_are_refused() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: ServerProtocol(lambda r: HttpResponse(200)), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 411")
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(scenario())
