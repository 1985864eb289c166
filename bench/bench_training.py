"""Training job overhead and tuning efficiency, side by side.

1. **Job overhead**: the same XGBoost training (same CSV, same hyperparameters) as a Lakeworks
   training job through boto3 (CreateTrainingJob → Completed, as a client sees it) and as plain
   XGBoost: a ``python`` process that imports XGBoost, reads the CSV, trains and saves, and the
   training alone inside this process. Overhead = Lakeworks p50 − plain process p50, over 10
   runs (goal ≤ 1 s; SageMaker needs minutes to provision an instance).
2. **Tuning efficiency**: the strategies alone (no jobs) on real XGBoost validation RMSE over
   eta, max_depth, min_child_weight, subsample and lambda: how many Bayesian trials reach the
   best RMSE that 50 random trials find (median over 5 seeds; goal ≤ 25).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import numpy as np

from lakeworks.schemas.tuning import ParameterRanges
from lakeworks.testing.process import server_process
from lakeworks.tuning.ranges import SearchSpace
from lakeworks.tuning.strategies import BayesianStrategy, Observation, RandomStrategy

RUNS = 10
ROUNDS = 50
PARAMS = {"max_depth": 4, "eta": 0.2, "objective": "reg:squarederror"}
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
RAW = """
import sys, numpy as np, xgboost as xgb
data = np.loadtxt(sys.argv[1], delimiter=",")
dtrain = xgb.DMatrix(data[:, 1:], label=data[:, 0])
booster = xgb.train({params!r}, dtrain, num_boost_round={rounds})
booster.save_model(sys.argv[2])
"""


def _data(rows: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 10))
    y = x[:, 0] * 2 - x[:, 1] + np.sin(3 * x[:, 2]) + rng.normal(scale=0.2, size=rows)
    return np.column_stack([y, x])


def _p50(values: list[float]) -> float:
    return statistics.median(values)


def job_overhead(work: Path) -> None:
    import xgboost as xgb

    table = _data(5000)
    csv = work / "train.csv"
    np.savetxt(csv, table, delimiter=",", fmt="%.6f")
    script = work / "raw.py"
    script.write_text(RAW.format(params=PARAMS, rounds=ROUNDS))
    in_process, process = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        data = np.loadtxt(csv, delimiter=",")
        xgb.train(PARAMS, xgb.DMatrix(data[:, 1:], label=data[:, 0]), num_boost_round=ROUNDS)
        in_process.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([sys.executable, str(script), str(csv), str(work / "m.json")], check=True)
        process.append(time.perf_counter() - start)
    lakeworks = []
    with server_process(work / "home", env={"LAKEWORKS_JOBS_POLL_INTERVAL_SECONDS": "0.02"}) as srv:
        env = srv.aws_env()
        session = boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        s3 = session.client("s3", endpoint_url=srv.url)
        sm = session.client("sagemaker", endpoint_url=srv.url)
        s3.create_bucket(Bucket="bench")
        s3.upload_file(str(csv), "bench", "train/train.csv")
        for i in range(RUNS):
            start = time.perf_counter()
            sm.create_training_job(
                TrainingJobName=f"xgb-{i}",
                RoleArn="arn:aws:iam::000000000000:role/bench",
                AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
                HyperParameters={
                    "num_round": str(ROUNDS),
                    **{k: str(v) for k, v in PARAMS.items()},
                },
                InputDataConfig=[
                    {
                        "ChannelName": "train",
                        "ContentType": "text/csv",
                        "DataSource": {
                            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench/train/"}
                        },
                    }
                ],
                OutputDataConfig={"S3OutputPath": "s3://bench/out"},
                ResourceConfig={
                    "InstanceType": "ml.m5.large",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 1,
                },
                StoppingCondition={"MaxRuntimeInSeconds": 600},
            )
            while True:
                job = sm.describe_training_job(TrainingJobName=f"xgb-{i}")
                if job["TrainingJobStatus"] not in ("InProgress", "Stopping"):
                    break
                time.sleep(0.02)
            assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
            lakeworks.append(time.perf_counter() - start)
    print(f"XGBoost, 5000 x 10 CSV, {ROUNDS} rounds, {RUNS} runs, p50:")
    print(f"  training alone, in process          {_p50(in_process):6.3f} s")
    print(f"  plain python process (import+train) {_p50(process):6.3f} s")
    print(f"  Lakeworks training job (boto3)      {_p50(lakeworks):6.3f} s")
    overhead = _p50(lakeworks) - _p50(process)
    print(f"  overhead over the plain process     {overhead:6.3f} s  (goal <= 1 s)")
    print(f"  over training alone                 {_p50(lakeworks) - _p50(in_process):6.3f} s")


def tuning_efficiency() -> None:
    import xgboost as xgb

    table = _data(2000, seed=1)
    train, valid = table[:1500], table[1500:]
    dtrain = xgb.DMatrix(train[:, 1:], label=train[:, 0])
    dvalid = xgb.DMatrix(valid[:, 1:], label=valid[:, 0])
    space = SearchSpace.from_ranges(
        ParameterRanges.model_validate(
            {
                "ContinuousParameterRanges": [
                    {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5"},
                    {"Name": "subsample", "MinValue": "0.5", "MaxValue": "1"},
                    {"Name": "lambda", "MinValue": "0.001", "MaxValue": "100"},
                    {"Name": "min_child_weight", "MinValue": "1", "MaxValue": "50"},
                ],
                "IntegerParameterRanges": [
                    {"Name": "max_depth", "MinValue": "1", "MaxValue": "10"}
                ],
            }
        )
    )
    cache: dict[tuple[Any, ...], float] = {}

    def rmse(params: dict[str, Any]) -> float:
        key = tuple(sorted(params.items()))
        if key not in cache:
            booster = xgb.train(
                {**params, "objective": "reg:squarederror", "nthread": 2},
                dtrain,
                num_boost_round=40,
            )
            predicted = booster.predict(dvalid)
            cache[key] = float(np.sqrt(np.mean((predicted - valid[:, 0]) ** 2)))
        return cache[key]

    def run(strategy: Any, trials: int) -> list[float]:
        history: list[Observation] = []
        while len(history) < trials:
            for params in strategy.propose(history, min(2, trials - len(history))):
                history.append(Observation(params, "complete", rmse(params)))
        return [o.loss or 0.0 for o in history]

    needed = []
    for seed in range(5):
        target = min(run(RandomStrategy(space, seed), 50))
        losses = run(BayesianStrategy(space, seed), 50)
        best = np.minimum.accumulate(losses)
        reached = next((i + 1 for i, b in enumerate(best) if b <= target), None)
        needed.append(reached if reached is not None else 51)
        print(
            f"  seed {seed}: best of 50 random {target:.4f}; Bayesian reaches it at trial "
            f"{reached if reached is not None else '>50'} (its best of 25: {best[24]:.4f})"
        )
    print(
        f"Bayesian trials to reach the best of 50 random (median of 5): {statistics.median(needed)}"
        "  (goal <= 25)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        job_overhead(Path(tmp))
    print()
    print("Tuning, strategies alone on XGBoost validation RMSE (2 proposals at a time):")
    tuning_efficiency()


if __name__ == "__main__":
    main()
