"""Blue/green endpoint updates under a steady load: failed requests and latency, side by side.

One XGBoost endpoint (1 instance) serves single-row CSV requests from ``--clients`` closed-loop
boto3 clients. After ``--steady`` seconds of steady state, the endpoint is updated to a second
config (another XGBoost model), and the clients keep going until it is InService again and the
old fleet is gone. Three ways, one after another on the same server, one run:

* **plain**: ``UpdateEndpoint`` without a DeploymentConfig (the new fleet starts, routes swap);
* **all at once**: ``BlueGreenUpdatePolicy`` ALL_AT_ONCE, 2 s bake;
* **canary**: CANARY 50 %, 2 s bake per step.

For each it prints failed requests (goal 0), requests, and p50/p99 (ms) in steady state and
during the update, with the ratio update/steady.

Run: ``.venv/bin/python bench/bench_deploy.py [--clients 4] [--steady 5]``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import xgboost as xgb
from botocore.config import Config
from botocore.exceptions import ClientError
from sklearn.datasets import make_friedman1

from lakeworks.testing.process import ServerProcess, server_process

ROW = "0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5"
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
POLICIES: dict[str, dict[str, Any] | None] = {
    "plain": None,
    "all at once": {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 2}
        }
    },
    "canary": {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                "WaitIntervalInSeconds": 2,
            }
        }
    },
}


def archive(rounds: int) -> bytes:
    """SageMaker's XGBoost model.tar.gz of a booster trained for ``rounds`` rounds."""
    features, labels = make_friedman1(n_samples=3000, n_features=8, random_state=5)
    booster = xgb.train(
        {"max_depth": 5, "eta": 0.2, "nthread": 1}, xgb.DMatrix(features, label=labels), rounds
    )
    raw = bytes(booster.save_raw("ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


def clients(server: ServerProcess, service: str) -> Any:
    """A boto3 client without retries (a failure counts once)."""
    env = server.aws_env()
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    ).client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def load(server: ServerProcess, endpoint: str, stop: threading.Event, out: list[Any]) -> None:
    """Invoke in a closed loop until ``stop``: ``(start time, latency ms, ok)`` per request."""
    runtime = clients(server, "sagemaker-runtime")
    deadline = time.monotonic() + 300
    while not stop.is_set() and time.monotonic() < deadline:
        start = time.monotonic()
        try:
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW)[
                "Body"
            ].read()
            out.append((start, (time.monotonic() - start) * 1e3, True))
        except ClientError:
            out.append((start, (time.monotonic() - start) * 1e3, False))
    runtime.close()


def wait(sm: Any, endpoint: str, home: Path, fleets: int) -> None:
    """Until the endpoint is InService with exactly ``fleets`` fleet directories."""
    root = home / "hosting" / "endpoints" / endpoint
    while True:
        status = sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"]
        count = len([p for p in root.iterdir() if p.is_dir()]) if root.exists() else 0
        if status == "InService" and count == fleets:
            return
        if status == "Failed":
            raise RuntimeError(f"endpoint {endpoint} failed")
        time.sleep(0.05)


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p99 in ms."""
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49], cuts[98]


def run(server: ServerProcess, name: str, policy: dict[str, Any] | None, args: Any) -> None:
    sm = clients(server, "sagemaker")
    endpoint = f"bench-{name.replace(' ', '-')}"
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName="bench-v1")
    wait(sm, endpoint, Path(server.home), 1)
    stop = threading.Event()
    results: list[tuple[float, float, bool]] = []
    threads = [
        threading.Thread(target=load, args=(server, endpoint, stop, results))
        for _ in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(args.steady)
    began = time.monotonic()
    extra = {"DeploymentConfig": policy} if policy else {}
    sm.update_endpoint(EndpointName=endpoint, EndpointConfigName="bench-v2", **extra)
    time.sleep(0.2)
    wait(sm, endpoint, Path(server.home), 1)
    ended = time.monotonic()
    stop.set()
    for thread in threads:
        thread.join()
    steady = [ms for t, ms, ok in results if t < began and ok]
    during = [ms for t, ms, ok in results if began <= t < ended and ok]
    failed = sum(1 for _, _, ok in results if not ok)
    s50, s99 = percentiles(steady)
    d50, d99 = percentiles(during)
    print(
        f"{name:12s} {failed:6d} {len(results):8d} {ended - began:7.1f}  "
        f"{s50:6.2f} {s99:7.2f}  {d50:6.2f} {d99:7.2f}  {d50 / s50:5.2f}x {d99 / s99:5.2f}x"
    )
    sm.delete_endpoint(EndpointName=endpoint)
    sm.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--steady", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, server_process(Path(tmp) / "home") as server:
        s3, sm = clients(server, "s3"), clients(server, "sagemaker")
        s3.create_bucket(Bucket="bench")
        for version, rounds in (("v1", 80), ("v2", 120)):
            s3.put_object(Bucket="bench", Key=f"{version}/model.tar.gz", Body=archive(rounds))
            sm.create_model(
                ModelName=f"bench-{version}",
                ExecutionRoleArn=ROLE,
                PrimaryContainer={
                    "Image": IMAGE,
                    "ModelDataUrl": f"s3://bench/{version}/model.tar.gz",
                },
            )
            sm.create_endpoint_config(
                EndpointConfigName=f"bench-{version}",
                ProductionVariants=[
                    {"VariantName": "AllTraffic", "ModelName": f"bench-{version}",
                     "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
                ],
            )  # fmt: skip
        print(f"{args.clients} closed-loop boto3 clients, {args.steady:g} s steady state first")
        print(
            f"{'update':12s} {'failed':>6s} {'requests':>8s} {'took s':>7s}  "
            f"{'p50 ms':>6s} {'p99 ms':>7s}  {'upd p50':>6s} {'upd p99':>7s}  "
            f"{'p50 ×':>6s} {'p99 ×':>6s}"
        )
        for name, policy in POLICIES.items():
            run(server, name, policy, args)
        s3.close()
        sm.close()


if __name__ == "__main__":
    main()
