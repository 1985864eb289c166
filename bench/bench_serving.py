"""Single-row CSV XGBoost serving: Lakeworks against raw in-process prediction, the floor app and
MLflow, measured as ``../shared/bench/README.md`` prescribes.

Same model (``make_friedman1(3000, 8, random_state=5)``, ``max_depth=5, eta=0.2``, 80 rounds), same
payload (one CSV row), same client (``wrk -t1 -cC -d10s --latency``, pinned to core 1, after a
warm-up run), every server pinned to core 0, one run:

* **raw**: parse + ``inplace_predict`` + format in this process, no HTTP (the lower bound);
* **floor**: ``../shared/bench/floor_app.py`` under uvicorn (bare ASGI, same predict);
* **Lakeworks**: an endpoint on the same artifact, invoked through the AWS front door
  (``POST /endpoints/<name>/invocations``, SigV4-signed once; a signature holds for 15 minutes),
  server and model server on core 0;
* **MLflow**: ``mlflow models serve --env-manager local`` when ``--mlflow-python`` names a Python
  with mlflow and xgboost installed (a separate venv: ``python -m venv /tmp/mlflow-venv &&
  /tmp/mlflow-venv/bin/pip install mlflow xgboost``); skipped otherwise.

Run: ``.venv/bin/python bench/bench_serving.py [--mlflow-python /tmp/mlflow-venv/bin/python]``.
Needs ``wrk`` (Debian package ``wrk``) and ``taskset``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
import xgboost as xgb
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from sklearn.datasets import make_friedman1

from lakeworks.testing.process import ServerProcess, server_process

ROW = b"0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def train(directory: Path) -> xgb.Booster:
    """The benchmark model, saved as ``xgb_model.json`` and as SageMaker's ``model.tar.gz``."""
    features, labels = make_friedman1(n_samples=3000, n_features=8, random_state=5)
    booster = xgb.train(
        {"max_depth": 5, "eta": 0.2, "nthread": 1}, xgb.DMatrix(features, label=labels), 80
    )
    booster.save_model(directory / "xgb_model.json")
    raw = bytes(booster.save_raw("ubj"))
    with tarfile.open(directory / "model.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return booster


def raw_latency(booster: xgb.Booster, runs: int = 20_000) -> dict[str, float]:
    """In-process parse → inplace_predict → format, per call (ms)."""
    booster.set_param({"nthread": 1})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        row = np.array([[float(v) for v in ROW.split(b",")]], dtype=np.float32)
        ",".join(map(str, booster.inplace_predict(row).tolist())).encode()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return {
        "p50": times[len(times) // 2],
        "p99": times[int(len(times) * 0.99)],
        "rps": 1e3 / statistics.mean(times),
    }


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, *, method: str = "GET", timeout: float = 120.0, **kwargs: Any) -> None:
    """Wait until ``url`` answers (any status below 500)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.request(method, url, timeout=2, **kwargs).status_code < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@contextlib.contextmanager
def pinned_process(argv: list[str], env: dict[str, str] | None = None) -> Iterator[None]:
    """Run ``argv`` on core 0 until the block ends."""
    process = subprocess.Popen(
        ["taskset", "-c", "0", *argv],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        process.wait(timeout=30)


def parse_wrk(text: str) -> dict[str, float]:
    """p50/p99 (ms) and req/s from ``wrk --latency`` output."""

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        if match is None:
            return float("nan")
        return float(match.group(1)) * _UNITS[match.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {
        "p50": latency("50%"),
        "p99": latency("99%"),
        "rps": float(rps.group(1)) if rps else float("nan"),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    """One wrk run pinned to core 1 (after a short warm-up at the same concurrency)."""
    base = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", "--latency", "-s", str(script)]
    subprocess.run([*base, "-d2s", url], check=True, capture_output=True)
    done = subprocess.run([*base, f"-d{seconds}s", url], check=True, capture_output=True, text=True)
    return parse_wrk(done.stdout)


def signed_script(server: ServerProcess, url: str, directory: Path) -> Path:
    """A wrk script sending ROW with a SigV4 signature made now (valid for 15 minutes)."""
    env = server.aws_env()
    request = AWSRequest(method="POST", url=url, data=ROW, headers={"Content-Type": "text/csv"})
    credentials = Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    SigV4Auth(credentials, "sagemaker", "us-east-1").add_auth(request)
    lines = ['wrk.method = "POST"', f'wrk.body = "{ROW.decode()}"']
    for name in ("Content-Type", "X-Amz-Date", "Authorization"):
        lines.append(f'wrk.headers["{name}"] = "{request.headers[name]}"')
    script = directory / "lakeworks_row.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def lakeworks_endpoint(server: ServerProcess, artifact: Path) -> None:
    """Upload the artifact and deploy it as endpoint ``bench`` (the chapter-9 calls)."""
    env = server.aws_env()
    kwargs = {
        "endpoint_url": env["AWS_ENDPOINT_URL"],
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": "us-east-1",
    }
    s3 = boto3.client("s3", **kwargs)
    sm = boto3.client("sagemaker", **kwargs)
    s3.create_bucket(Bucket="bench")
    s3.put_object(Bucket="bench", Key="xgb/model.tar.gz", Body=artifact.read_bytes())
    sm.create_model(
        ModelName="bench",
        ExecutionRoleArn="arn:aws:iam::000000000000:role/Bench",
        PrimaryContainer={"Image": "xgboost", "ModelDataUrl": "s3://bench/xgb/model.tar.gz"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="bench",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "bench",
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="bench", EndpointConfigName="bench")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="bench", WaiterConfig={"Delay": 0.5, "MaxAttempts": 240}
    )
    s3.close()
    sm.close()


def mlflow_model(python: str, model_json: Path, directory: Path) -> Path:
    """Save the same booster as an MLflow model with the other Python."""
    target = directory / "mlflow-model"
    code = (
        "import sys, xgboost as xgb, mlflow.xgboost\n"
        "b = xgb.Booster(); b.load_model(sys.argv[1])\n"
        "mlflow.xgboost.save_model(b, sys.argv[2])\n"
    )
    subprocess.run([python, "-c", code, str(model_json), str(target)], check=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--mlflow-python", help="Python of a venv with mlflow and xgboost")
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared/bench")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    results: dict[str, dict[int, dict[str, float]]] = {}
    overhead: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        booster = train(work)
        raw = raw_latency(booster)
        csv_script = args.shared / "csv_row.lua"

        port = free_port()
        floor = [
            *(sys.executable, "-m", "uvicorn", "floor_app:app", "--port", str(port)),
            *("--workers", "1", "--app-dir", str(args.shared), "--log-level", "warning"),
        ]
        with pinned_process(floor, {"FLOOR_MODEL": str(work / "xgb_model.json")}):
            url = f"http://127.0.0.1:{port}/"
            wait_ready(url, method="POST", content=ROW)
            results["floor app"] = {
                c: run_wrk(url, csv_script, c, args.duration) for c in args.concurrency
            }

        with server_process(work / "home") as server:
            subprocess.run(["taskset", "-a", "-c", "-p", "0", str(server.process.pid)],
                           check=True, capture_output=True)  # fmt: skip
            lakeworks_endpoint(server, work / "model.tar.gz")
            url = f"{server.url}/endpoints/bench/invocations"
            script = signed_script(server, url, work)
            results["Lakeworks"] = {
                c: run_wrk(url, script, c, args.duration) for c in args.concurrency
            }
            metrics = httpx.get(
                f"{server.url}/api/v1/endpoints/bench/metrics",
                headers={"Authorization": f"Bearer {server.token}"},
            ).json()["variants"][0]
            overhead = {k: metrics[k] for k in ("model_latency", "overhead_latency")}

        if args.mlflow_python:
            model_dir = mlflow_model(args.mlflow_python, work / "xgb_model.json", work)
            port = free_port()
            mlflow = Path(args.mlflow_python).with_name("mlflow")
            serve = [str(mlflow), "models", "serve", "-m", str(model_dir), "-p", str(port),
                     "--env-manager", "local"]  # fmt: skip
            # mlflow starts ``uvicorn`` by name: its venv's bin must come first on PATH.
            path = f"{mlflow.parent}{os.pathsep}{os.environ.get('PATH', '')}"
            with pinned_process(serve, {"PATH": path}):
                url = f"http://127.0.0.1:{port}/invocations"
                wait_ready(f"http://127.0.0.1:{port}/ping", timeout=300)
                mlflow_script = args.shared / "mlflow_json_row.lua"
                results["MLflow"] = {
                    c: run_wrk(url, mlflow_script, c, args.duration) for c in args.concurrency
                }

    print("Single-row CSV XGBoost invocation (2-core machine; server on core 0, wrk on core 1)")
    print(f"  raw in-process parse+predict+format: p50 {raw['p50']:.3f} ms  "
          f"p99 {raw['p99']:.3f} ms  ({raw['rps']:.0f} calls/s)")  # fmt: skip
    for name, by_c in results.items():
        for c, r in by_c.items():
            errors = f"  non-2xx {r['errors']:.0f}" if r["errors"] else ""
            print(f"  {name:10s} c={c:<3d} p50 {r['p50']:7.3f} ms  p99 {r['p99']:7.3f} ms  "
                  f"{r['rps']:8.0f} req/s{errors}")  # fmt: skip
    lake = results.get("Lakeworks", {})
    for c in args.concurrency:
        ratios = []
        for other in ("floor app", "MLflow"):
            if other in results and c in lake:
                ratios.append(f"{lake[c]['rps'] / results[other][c]['rps']:.2f}x {other}")
        if ratios:
            print(f"  Lakeworks throughput at c={c}: " + ", ".join(ratios))
    if 1 in lake:
        print(f"  Lakeworks p50 at c=1 minus raw p50: {lake[1]['p50'] - raw['p50']:.3f} ms "
              "(goal: within 1 ms)")  # fmt: skip
    if overhead:
        model, extra = overhead["model_latency"], overhead["overhead_latency"]
        model_ms = (model["p50_us"] or 0) / 1e3
        extra_ms = (extra["p50_us"] or 0) / 1e3
        print(
            f"  Lakeworks ModelLatency p50 ~{model_ms:.3f} ms, "
            f"OverheadLatency p50 ~{extra_ms:.3f} ms (server metrics)"
        )
    print(
        json.dumps(
            {"raw": raw, **{k: {str(c): r for c, r in v.items()} for k, v in results.items()}}
        )
    )


if __name__ == "__main__":
    main()
