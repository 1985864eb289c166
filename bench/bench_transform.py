"""Batch transform rows/s: a Lakeworks transform job against raw in-process prediction.

Same model as ``bench_serving.py`` (``make_friedman1`` 8 features, ``max_depth=5``, 80 rounds),
same data (``--rows`` CSV rows of 8 features in ``--files`` objects), one run:

* **raw**: for each file, ``pandas.read_csv`` → ``Booster.inplace_predict`` (one thread) →
  one prediction per line written to ``<file>.out``; what a user would write by hand. Run
  before, between and after the jobs; the best of the three is the baseline (a shared
  machine's noise then counts against Lakeworks, never for it).
* **Lakeworks**: ``CreateTransformJob`` through boto3 (SplitType Line, MultiRecord, 6 MB
  mini-batches, AssembleWith Line) with ``MaxConcurrentTransforms`` 1 and 2. Two figures: the
  in-job rate once the model is loaded (the runner's own ``records/s`` line: read, split,
  batch, invoke the model server's handler, assemble, write) and the end-to-end rate over the
  job's TransformStartTime → TransformEndTime (adds staging from the lake, process start and
  imports, model load, upload).

The goal is ≥ 70 % of raw per worker (in-job rate with one worker / raw). Run:
``.venv/bin/python bench/bench_transform.py [--rows 1000000] [--files 8]``.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
import pandas as pd
import xgboost as xgb

from lakeworks.testing.process import ServerProcess, server_process

sys.path.insert(0, str(Path(__file__).parent))
from bench_serving import train  # the same model as the serving benchmark

BUCKET = "bench-transform"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"


def make_files(directory: Path, rows: int, files: int) -> list[Path]:
    """``files`` CSV files of 8 random features, ``rows`` rows in all."""
    rng = np.random.default_rng(7)
    paths = []
    for index, part in enumerate(np.array_split(np.arange(rows), files)):
        path = directory / f"part-{index:02d}.csv"
        np.savetxt(path, rng.random((len(part), 8)), delimiter=",", fmt="%.6f")
        paths.append(path)
    return paths


def raw(booster: xgb.Booster, paths: list[Path], out: Path) -> float:
    """Rows/s of read → predict → write, in this process, one thread."""
    booster.set_param({"nthread": 1})
    rows = 0
    start = time.perf_counter()
    for path in paths:
        features = pd.read_csv(path, header=None, dtype=np.float32).to_numpy()
        predictions = booster.inplace_predict(features)
        (out / f"{path.name}.out").write_text("\n".join(map(str, predictions.tolist())) + "\n")
        rows += len(features)
    return rows / (time.perf_counter() - start)


def lakeworks(server: ServerProcess, name: str, workers: int, rows: int) -> dict[str, float]:
    """Run one transform job; its in-job and end-to-end rows/s."""
    env = server.aws_env()
    sm = boto3.client(
        "sagemaker",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    sm.create_transform_job(
        TransformJobName=name,
        ModelName="bench-xgb",
        MaxConcurrentTransforms=workers,
        MaxPayloadInMB=6,
        BatchStrategy="MultiRecord",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/input/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={
            "S3OutputPath": f"s3://{BUCKET}/{name}/",
            "AssembleWith": "Line",
            "Accept": "text/csv",
        },
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    while True:
        described: dict[str, Any] = sm.describe_transform_job(TransformJobName=name)
        if described["TransformJobStatus"] not in ("InProgress", "Stopping"):
            break
        time.sleep(0.2)
    if described["TransformJobStatus"] != "Completed":
        raise SystemExit(f"{name}: {described.get('FailureReason')}")
    wall = (described["TransformEndTime"] - described["TransformStartTime"]).total_seconds()
    logs = httpx.get(
        f"{env['AWS_ENDPOINT_URL']}/api/v1/transform-jobs/{name}/logs",
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=30,
    ).json()["data"]
    match = re.search(r"then (\d+) records/s", logs)
    return {"in_job": float(match.group(1)) if match else float("nan"), "e2e": rows / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        booster = train(root)
        paths = make_files(root, args.rows, args.files)
        (root / "raw-out").mkdir()
        raws = [raw(booster, paths, root / "raw-out")]
        with server_process(root / "home") as server:
            env = server.aws_env()
            s3 = boto3.client(
                "s3",
                endpoint_url=env["AWS_ENDPOINT_URL"],
                region_name="us-east-1",
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            )
            s3.create_bucket(Bucket=BUCKET)
            s3.upload_file(str(root / "model.tar.gz"), BUCKET, "model/model.tar.gz")
            for path in paths:
                s3.upload_file(str(path), BUCKET, f"input/{path.name}")
            boto3.client(
                "sagemaker",
                endpoint_url=env["AWS_ENDPOINT_URL"],
                region_name="us-east-1",
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            ).create_model(
                ModelName="bench-xgb",
                ExecutionRoleArn=ROLE,
                PrimaryContainer={
                    "Image": IMAGE,
                    "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz",
                },
            )
            one = lakeworks(server, "bench-one-worker", 1, args.rows)
            raws.append(raw(booster, paths, root / "raw-out"))
            two = lakeworks(server, "bench-two-workers", 2, args.rows)
            raws.append(raw(booster, paths, root / "raw-out"))
            raw_rate = max(raws)  # the machine is shared: compare with raw at its best
            out = s3.get_object(Bucket=BUCKET, Key=f"bench-one-worker/{paths[0].name}.out")
            ours = np.loadtxt(io.BytesIO(out["Body"].read()))
            theirs = np.loadtxt(root / "raw-out" / f"{paths[0].name}.out")
            np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    print(f"rows: {args.rows:,} in {args.files} CSV objects, 8 features, XGBoost 80 rounds")
    print(f"{'':34} {'rows/s':>12} {'vs raw':>8}")
    print(f"{'raw (pandas + inplace_predict)':34} {raw_rate:>12,.0f} {1:>8.2f}")
    for label, figures in (("Lakeworks, 1 worker", one), ("Lakeworks, 2 workers", two)):
        for kind, rate in (("in job", figures["in_job"]), ("end to end", figures["e2e"])):
            text = f"{label}, {kind}"
            print(f"{text:34} {rate:>12,.0f} {rate / raw_rate:>8.2f}")
    print(f"goal: >= 0.70 per worker (1 worker, in job): {one['in_job'] / raw_rate:.2f}")


if __name__ == "__main__":
    main()
