"""``python -m lakeworks.training.entrypoint`` in a SageMaker-style job directory."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lakeworks.training import entrypoint
from lakeworks.training.algorithms import load_model
from lakeworks.training.formats import RECORDIO_PROTOBUF
from lakeworks.training.metrics import parse_final_metrics, read_metrics_file

LINEAR_LEARNER_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def _data(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(21)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 1.0


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lakeworks.training.entrypoint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_job_run_from_its_code_directory_trains_and_reports(
    job_factory: Callable[..., Path],
) -> None:
    X, y = _data()
    root = job_factory(
        {"predictor_type": "regressor", "mini_batch_size": "30", "epochs": "6"},
        {"train": (X[:200], y[:200]), "validation": (X[200:250], y[200:250]),
         "test": (X[250:], y[250:])},
    )  # fmt: skip
    (root / "code").mkdir()
    done = _run([LINEAR_LEARNER_IMAGE], cwd=root / "code")  # the layout is the parent's
    assert done.returncode == 0, done.stderr
    assert "#quality_metric: host=algo-1, epoch=0, batch=" in done.stdout
    assert "#test_score (algo-1) : ('mse', " in done.stdout
    finals = parse_final_metrics(done.stdout)
    assert finals == read_metrics_file(root / "output")
    assert finals["test:mse"] < 0.1
    assert "validation:objective_loss" in finals
    assert not (root / "output" / "failure").exists()
    model = load_model(root / "model")
    np.testing.assert_allclose(model.predict(X[250:]), y[250:], atol=0.5)


def test_a_client_error_writes_the_failure_file_and_no_model(
    job_factory: Callable[..., Path],
) -> None:
    X, y = _data(50)
    root = job_factory({"num_round": "3", "eta": "fast"}, {"train": (X, y)})
    done = _run(["xgboost", "--root", str(root)], cwd=root)
    assert done.returncode == entrypoint.CLIENT_ERROR
    failure = (root / "output" / "failure").read_text()
    assert failure.startswith(
        "ClientError: Invalid value 'fast' for hyperparameter 'eta' of algorithm 'xgboost': "
        "expected a number in [0, 1]"
    )
    assert failure.strip() in done.stderr
    assert not (root / "model").exists() or not any((root / "model").iterdir())
    assert "Traceback" not in done.stderr


def test_paths_come_from_the_script_mode_variables(tmp_path: Path) -> None:
    X, _y = _data(100)
    config = tmp_path / "config"
    config.mkdir()
    (config / "hyperparameters.json").write_text(json.dumps({"k": "2", "feature_dim": "3"}))
    (config / "inputdataconfig.json").write_text(
        json.dumps({"train": {"ContentType": "text/csv", "CompressionType": "Gzip"}})
    )
    train = tmp_path / "elsewhere"
    train.mkdir()
    rows = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in X)
    (train / "data.csv.gz").write_bytes(gzip.compress(rows.encode()))
    env = {
        "SM_INPUT_CONFIG_DIR": str(config),
        "SM_CHANNEL_TRAIN": str(train),
        "SM_MODEL_DIR": str(tmp_path / "m"),
        "SM_OUTPUT_DIR": str(tmp_path / "o"),
    }
    assert entrypoint.main([], environ=env) == 1  # no algorithm named anywhere
    assert "ClientError: No algorithm given" in (tmp_path / "o" / "failure").read_text()
    assert entrypoint.main([], environ={**env, "LAKEWORKS_ALGORITHM": "kmeans"}) == 0
    assert load_model(tmp_path / "m").predict(X).shape == (100,)
    assert (tmp_path / "o" / "metrics.json").is_file()


@pytest.mark.parametrize(
    ("algorithm", "hyperparameters", "files", "config", "reason"),
    [
        ("knn", {}, {}, {}, "ClientError: Missing required hyperparameter 'feature_dim'"),
        (
            "xgboost",
            {"num_round": "2"},
            {"train/a.csv": b"price,size\n1,2\n"},
            {"train": {"ContentType": "text/csv"}},
            "ClientError: train/a.csv row 1, column 1: 'price' is not a number",
        ),
        (
            "xgboost",
            {"num_round": "2"},
            {"train/a.csv": b"1,2\n", "extra/a.csv": b"1,2\n"},
            {},
            "ClientError: Channel 'extra' is not supported by xgboost; use train, validation",
        ),
        ("xgboost", {"num_round": "2"}, {}, {}, "ClientError: xgboost needs a 'train' channel"),
        (
            "xgboost",
            {"num_round": "2"},
            {"train/a.csv": b"1,2\n"},
            {"train": {"ContentType": "image/png"}},
            "ClientError: Content type 'image/png' is not supported by this algorithm",
        ),
        (
            "pytorch-training",
            {},
            {},
            {},
            "ClientError: Training image 'pytorch-training' (repository 'pytorch-training') is "
            "not a built-in algorithm",
        ),
        (
            "linear-learner",
            {"predictor_type": "regressor"},
            {"train/a.csv": b"1,2\n3,\n"},
            {"train": {"ContentType": "text/csv"}},
            "ClientError: Channel 'train', train/a.csv row 2, column 2: a missing value",
        ),
    ],
)
def test_client_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    algorithm: str,
    hyperparameters: dict[str, str],
    files: dict[str, bytes],
    config: dict[str, object],
    reason: str,
) -> None:
    (tmp_path / "input" / "config").mkdir(parents=True)
    (tmp_path / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (tmp_path / "input" / "config" / "inputdataconfig.json").write_text(json.dumps(config))
    for name, content in files.items():
        path = tmp_path / "input" / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    assert entrypoint.main([algorithm, "--root", str(tmp_path)], environ={}) == 1
    assert (tmp_path / "output" / "failure").read_text().startswith(reason)
    assert reason in capsys.readouterr().err
    assert not (tmp_path / "model").exists()


def test_an_unexpected_error_is_an_algorithm_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(entrypoint, "run", broken)
    assert entrypoint.main(["xgboost", "--root", str(tmp_path)], environ={}) == 2
    assert (tmp_path / "output" / "failure").read_text() == "AlgorithmError: RuntimeError: boom\n"
    assert "Traceback" in capsys.readouterr().err


def test_first_party_algorithms_default_to_recordio_protobuf(
    job_factory: Callable[..., Path],
) -> None:
    X, y = _data(120)
    root = job_factory(
        {"feature_dim": "3", "k": "3", "predictor_type": "regressor", "sample_size": "100"},
        {"train": (X, y)},
        content_type=RECORDIO_PROTOBUF,
        config={"train": {}},  # no ContentType: AWS's default for the algorithm
    )
    assert entrypoint.main(["knn", "--root", str(root)], environ={}) == 0
    assert load_model(root / "model").predict(X[:5]).shape == (5,)


def test_the_job_process_never_imports_the_database_or_the_server() -> None:
    code = (
        "import sys, lakeworks.training.entrypoint as e\n"
        "from lakeworks.training.algorithms import ALGORITHMS, algorithm_class\n"
        "for name in ALGORITHMS: algorithm_class(name)\n"
        "banned = ('lakeworks.db', 'lakeworks.server', 'lakeworks.iam', 'lakeworks.lake')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'alembic')"
        " or m.startswith(banned)]\n"
        "print(bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"
