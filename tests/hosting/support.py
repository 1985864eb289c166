"""Tiny models, archives and waits shared by the hosting tests (models are trained in the test
with the libraries directly; nothing depends on training jobs)."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

#: A script-mode "scikit-learn" model: coefficients in JSON, no pickle.
LINEAR_INFERENCE = """
import json, os, time
import numpy as np

class Linear:
    def __init__(self, coef, intercept):
        self.coef = np.asarray(coef)
        self.intercept = intercept

    def predict(self, rows):
        return rows @ self.coef + self.intercept

def model_fn(model_dir):
    gate = os.environ.get("GATE")  # tests hold loading until they open the gate
    while gate and not os.path.exists(gate):
        time.sleep(0.02)
    with open(os.path.join(model_dir, "coef.json")) as f:
        data = json.load(f)
    return Linear(data["coef"], data["intercept"])

def input_fn(body, content_type):
    if content_type == "text/csv":
        return np.array([[float(v) for v in line.split(",")] for line in body.splitlines() if line])
    if content_type == "application/json":
        return np.array(json.loads(body)["instances"])
    raise ValueError("unsupported content type " + content_type)

def output_fn(prediction, accept):
    if accept == "text/csv":
        return "\\n".join(str(round(float(p), 6)) for p in prediction), "text/csv"
    return json.dumps({"predictions": [float(p) for p in prediction]}), "application/json"
"""


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A gzip'd tar of ``files`` (name → bytes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def train_xgboost(n_features: int = 4, seed: int = 0, rounds: int = 8) -> xgb.Booster:
    """A small regression booster on a linear target."""
    rng = np.random.default_rng(seed)
    features = rng.random((200, n_features))
    labels = features @ np.arange(1, n_features + 1)
    return xgb.train({"max_depth": 3, "nthread": 1}, xgb.DMatrix(features, label=labels), rounds)


def xgboost_archive(booster: xgb.Booster) -> bytes:
    """SageMaker's XGBoost artifact: ``xgboost-model`` (UBJSON) in model.tar.gz."""
    return tar_gz({"xgboost-model": bytes(booster.save_raw("ubj"))})


def linear_archive(coef: list[float], intercept: float) -> bytes:
    """A script-mode model.tar.gz: coefficients plus code/inference.py."""
    return tar_gz(
        {
            "coef.json": json.dumps({"coef": coef, "intercept": intercept}).encode(),
            "code/inference.py": LINEAR_INFERENCE.encode(),
        }
    )


def wait_for_endpoint(sagemaker: Any, name: str, *, timeout: float = 90.0) -> dict[str, Any]:
    """Poll DescribeEndpoint until the endpoint leaves Creating/Updating; return the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sagemaker.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] not in ("Creating", "Updating", "Deleting"):
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"endpoint {name} still {described['EndpointStatus']}")
        time.sleep(0.1)


def processes_under(path: Path) -> list[int]:
    """Pids of live processes whose command line names something under ``path`` (model servers
    and their wrappers name their instance files), zombies excluded."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(path) in cmdline and state not in ("Z", "X"):
            found.append(int(proc.name))
    return found
