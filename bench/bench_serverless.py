"""Serverless cold start: a scaled-to-zero XGBoost variant's first invocation, against a warm one
and against the floor of any cold start (a fresh Python importing the model server).

Same model as ``bench_serving.py`` (``make_friedman1(3000, 8, random_state=5)``, 80 rounds), same
payload (one CSV row), same client (boto3 ``invoke_endpoint``), one run:

* **cold**: the variant idles until its instance stopped (``hosting.serverless_idle_seconds`` =
  0.5), then one invocation; end-to-end latency and the server's own ``X-Lakeworks-Cold-Start-Ms``,
  p50 over ``--runs`` cold starts (goal: p50 ≤ 500 ms);
* **warm**: invocations right after, p50;
* **floor**: a fresh ``python`` that imports the model server and XGBoost and loads the same
  model — what any cold start in a new process pays before it can answer.

Run: ``.venv/bin/python bench/bench_serverless.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
from bench_serving import ROW, train

from lakeworks.testing.process import ServerProcess, server_process

ENDPOINT = "sls-bench"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def _clients(server: ServerProcess) -> tuple[Any, Any, Any]:
    env = server.aws_env()
    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    return tuple(  # type: ignore[return-value]
        session.client(name, endpoint_url=env["AWS_ENDPOINT_URL"])
        for name in ("s3", "sagemaker", "sagemaker-runtime")
    )


def deploy(server: ServerProcess, archive: Path) -> Any:
    """A serverless endpoint on the benchmark model; the runtime client."""
    s3, sm, runtime = _clients(server)
    s3.create_bucket(Bucket="bench")
    s3.put_object(Bucket="bench", Key="model.tar.gz", Body=archive.read_bytes())
    sm.create_model(
        ModelName="xgb",
        ExecutionRoleArn="arn:aws:iam::000000000000:role/SageMakerRole",
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://bench/model.tar.gz"},
    )
    sm.create_endpoint_config(
        EndpointConfigName="sls",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "xgb",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="sls")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=ENDPOINT, WaiterConfig={"Delay": 0.25, "MaxAttempts": 400}
    )
    return runtime


def wait_cold(server: ServerProcess) -> None:
    """Until the variant runs no instance."""
    gauge = f'lakeworks_endpoint_instances{{endpoint="{ENDPOINT}",variant="AllTraffic"}} 0'
    auth = {"Authorization": f"Bearer {server.token}"}
    deadline = time.monotonic() + 60
    while gauge not in httpx.get(f"{server.url}/metrics", headers=auth).text:
        if time.monotonic() > deadline:
            raise TimeoutError("the serverless variant never went cold")
        time.sleep(0.05)


def invoke(runtime: Any) -> tuple[float, float | None]:
    """One invocation: (end-to-end ms, the server's cold-start ms or None)."""
    started = time.perf_counter()
    response = runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="text/csv", Body=ROW)
    response["Body"].read()
    elapsed = (time.perf_counter() - started) * 1e3
    header = response["ResponseMetadata"]["HTTPHeaders"].get("x-lakeworks-cold-start-ms")
    return elapsed, float(header) if header else None


def floor_ms(runs: int, model: Path) -> float:
    """p50 of a fresh interpreter importing the model server and XGBoost, loading ``model``."""
    code = (  # without scikit-learn, as the model server imports XGBoost
        "import sys; sys.modules['sklearn'] = None; "
        "import lakeworks.hosting.model_server, xgboost; "
        "xgboost.Booster(model_file=sys.argv[1])"
    )
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-P", "-c", code, str(model)], check=True)
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        train(Path(tmp))
        env = {"LAKEWORKS_HOSTING_SERVERLESS_IDLE_SECONDS": "0.5"}
        with server_process(Path(tmp) / "home", env=env) as server:
            runtime = deploy(server, Path(tmp) / "model.tar.gz")
            cold_e2e, cold_server, warm = [], [], []
            for _ in range(args.runs):
                wait_cold(server)
                elapsed, reported = invoke(runtime)
                cold_e2e.append(elapsed)
                if reported is not None:
                    cold_server.append(reported)
                warm += [invoke(runtime)[0] for _ in range(5)]
        floor = floor_ms(args.runs, Path(tmp) / "xgb_model.json")
    cold = statistics.median(cold_e2e)
    print(f"cold starts measured: {len(cold_e2e)} (server reported {len(cold_server)})")
    print(f"cold start end-to-end p50: {cold:8.1f} ms   (goal <= 500 ms)")
    if cold_server:
        print(f"cold start server p50:     {statistics.median(cold_server):8.1f} ms")
    print(f"warm invocation p50:       {statistics.median(warm):8.1f} ms")
    print(f"floor (fresh python+load): {floor:8.1f} ms")
    print(f"cold / floor:              {cold / floor:8.2f} x")


if __name__ == "__main__":
    main()
