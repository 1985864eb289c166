"""The in-job batch transform runner on a real XGBoost model (no server): outputs, workers in
parallel, filters and join, and how it fails."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from lakeworks.hosting.batch.records import RecordError
from lakeworks.hosting.batch.runner import TransformPlan, main, run
from lakeworks.hosting.worker_spec import ContainerPlan, WorkerSpec


def _plan(
    tmp_path: Path, model_dir: Path, inputs: dict[str, bytes], **fields: object
) -> TransformPlan:
    container = ContainerPlan(
        hostname="primary",
        kind="builtin",
        image="xgboost",
        model_dir=str(model_dir),
        algorithm="xgboost",
        environment={"SAGEMAKER_BATCH": "true"},
    )
    worker = tmp_path / "worker.json"
    WorkerSpec("job", "transform", (container,)).write(worker)
    files = []
    for index, (key, data) in enumerate(inputs.items()):
        local = tmp_path / f"in-{index}"
        local.write_bytes(data)
        files.append(
            {"key": key, "local": str(local), "output": str(tmp_path / f"out-{index}"), "name": key}
        )
    (tmp_path / "output").mkdir(exist_ok=True)
    defaults: dict[str, object] = {
        "worker": str(worker),
        "files": files,
        "output_dir": str(tmp_path / "output"),
        "split_type": "Line",
        "content_type": "text/csv",
        "assemble_with": "Line",
    }
    defaults.update(fields)
    return TransformPlan(**defaults)  # type: ignore[arg-type]


def _csv(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(f"{v:.6f}" for v in row) for row in rows).encode() + b"\n"


@pytest.fixture
def rows() -> np.ndarray:
    return np.random.default_rng(1).random((50, 4))


def _expected(booster: xgb.Booster, rows: np.ndarray) -> np.ndarray:
    parsed = np.array([[float(f"{v:.6f}") for v in row] for row in rows], dtype=np.float32)
    return np.asarray(booster.inplace_predict(parsed))


def test_one_prediction_line_per_input_line_in_order(
    tmp_path: Path, xgboost_dir: Path, booster: xgb.Booster, rows: np.ndarray
) -> None:
    plan = _plan(
        tmp_path,
        xgboost_dir,
        {"a.csv": _csv(rows[:30]), "b.csv": _csv(rows[30:])},
        max_payload_mb=1,
    )
    assert run(plan) == 50
    got = [float(v) for f in ("out-0", "out-1") for v in (tmp_path / f).read_text().split()]
    np.testing.assert_allclose(got, _expected(booster, rows), rtol=1e-6)


def test_parallel_workers_give_the_same_output(
    tmp_path: Path, xgboost_dir: Path, rows: np.ndarray
) -> None:
    inputs = {f"part-{i}.csv": _csv(rows[i * 10 : (i + 1) * 10]) for i in range(5)}
    (tmp_path / "serial").mkdir()
    run(_plan(tmp_path / "serial", xgboost_dir, inputs, batch_strategy="SingleRecord"))
    (tmp_path / "parallel").mkdir()
    parallel = _plan(
        tmp_path / "parallel", xgboost_dir, inputs, batch_strategy="SingleRecord", concurrency=3
    )
    assert run(parallel) == 50
    for index in range(5):
        name = f"out-{index}"
        assert (tmp_path / "parallel" / name).read_bytes() == (
            tmp_path / "serial" / name
        ).read_bytes()


def test_input_filter_join_and_output_filter(
    tmp_path: Path, xgboost_dir: Path, booster: xgb.Booster, rows: np.ndarray
) -> None:
    with_ids = "\n".join(
        f"id{i}," + ",".join(f"{v:.6f}" for v in row) for i, row in enumerate(rows[:5])
    )
    plan = _plan(
        tmp_path,
        xgboost_dir,
        {"test.csv": with_ids.encode()},
        input_filter="$[1:]",
        join_source="Input",
        output_filter="$[0,-1]",
    )
    run(plan)
    lines = (tmp_path / "out-0").read_text().splitlines()
    assert [line.split(",")[0] for line in lines] == [f"id{i}" for i in range(5)]
    # The model saw the rows without their ids; the join is with the input as read (as AWS
    # joins), and the OutputFilter keeps the id and the answer.
    np.testing.assert_allclose(
        [float(line.split(",")[1]) for line in lines], _expected(booster, rows[:5]), rtol=1e-6
    )


def test_a_bad_row_fails_the_job_naming_the_object_and_records(
    tmp_path: Path, xgboost_dir: Path
) -> None:
    plan = _plan(tmp_path, xgboost_dir, {"s3://b/in/bad.csv": b"1,2,3,4\n1,2,x,4\n"})
    with pytest.raises(RecordError, match=r"records 1-2 of s3://b/in/bad.csv with status 400"):
        run(plan)
    (tmp_path / "transform.json").write_text(json.dumps(asdict(plan)))
    assert main([str(tmp_path / "transform.json")]) == 1
    failure = (tmp_path / "output" / "failure").read_text()
    assert failure.startswith("ClientError: The model failed on records 1-2 of s3://b/in/bad.csv")
    assert "column 3" in failure


def test_single_record_over_the_payload_limit_fails_naming_the_record(
    tmp_path: Path, xgboost_dir: Path
) -> None:
    big = b"1,2,3," + b"4" * (1024 * 1024)
    plan = _plan(
        tmp_path,
        xgboost_dir,
        {"in.csv": b"1,2,3,4\n" + big},
        batch_strategy="SingleRecord",
        max_payload_mb=1,
    )
    with pytest.raises(RecordError, match=r"Record 2 of in\.csv is 1048582 bytes"):
        run(plan)


def test_without_assembly_the_answers_are_concatenated(
    tmp_path: Path, xgboost_dir: Path, rows: np.ndarray
) -> None:
    plan = _plan(
        tmp_path, xgboost_dir, {"x.csv": _csv(rows[:3])}, split_type="None", assemble_with="None"
    )
    run(plan)
    assert (tmp_path / "out-0").read_text().count("\n") == 2  # three lines, none after the last
    plan = replace(plan, accept="application/json")
    run(plan)
    assert len(json.loads((tmp_path / "out-0").read_text())["predictions"]) == 3


@pytest.mark.parametrize("workers", [1, 2])
def test_a_model_that_cannot_load_fails_the_job_with_its_reason(
    tmp_path: Path, workers: int
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text("def model_fn(d):\n    raise OSError('weights missing')\n")
    container = ContainerPlan("primary", "script", "img", str(tmp_path), str(code), "inference.py")
    WorkerSpec("job", "transform", (container,)).write(tmp_path / "worker.json")
    (tmp_path / "in.csv").write_text("1,2\n")
    (tmp_path / "output").mkdir()
    plan = TransformPlan(
        worker=str(tmp_path / "worker.json"),
        files=[{"key": "in.csv", "local": str(tmp_path / "in.csv"), "output": str(tmp_path / "o")}],
        output_dir=str(tmp_path / "output"),
        concurrency=workers,
    )
    with pytest.raises(RecordError, match="Cannot load the model: OSError: weights missing"):
        run(plan)
