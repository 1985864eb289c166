"""Metric lines in AWS's formats, their regexes, and the final-metrics contract."""

from __future__ import annotations

import io
import json
from pathlib import Path

from lakeworks.training.metrics import (
    MetricLog,
    extract_metrics,
    final_line,
    lightgbm_definition,
    lightgbm_line,
    parse_final_metrics,
    quality_metric_definition,
    quality_metric_line,
    read_metrics_file,
    score_definition,
    score_line,
    xgboost_definition,
    xgboost_line,
)

# The definitions SageMaker publishes for its XGBoost algorithm (DescribeAlgorithm / the
# sagemaker SDK's metric definitions), applied to our lines.
AWS_XGBOOST_VALIDATION_RMSE = (
    r".*\[[0-9]+\].*#011validation-rmse:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*"
)
AWS_XGBOOST_TRAIN_RMSE = (
    r".*\[[0-9]+\].*#011train-rmse:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*"
)


def test_xgboost_lines_match_sagemakers_own_regexes() -> None:
    log = "\n".join(
        xgboost_line(i, [("train", "rmse", 1.0 / (i + 1)), ("validation", "rmse", 2.0 / (i + 1))])
        for i in range(3)
    )
    assert log.splitlines()[0] == "[0]#011train-rmse:1.00000#011validation-rmse:2.00000"
    found = extract_metrics(
        log,
        [
            {"Name": "validation:rmse", "Regex": AWS_XGBOOST_VALIDATION_RMSE},
            {"Name": "train:rmse", "Regex": AWS_XGBOOST_TRAIN_RMSE},
        ],
    )
    assert found == {"validation:rmse": 0.66667, "train:rmse": 0.33333}
    ours = [xgboost_definition("validation", "rmse"), xgboost_definition("train", "rmse")]
    assert extract_metrics(log, ours) == found


def test_first_party_lines_and_definitions() -> None:
    lines = [
        quality_metric_line(0, "train", "mse_objective", 0.75, batch=10),
        quality_metric_line(0, "validation", "mse_objective", 0.5),
        score_line("test", "mse", 0.25),
        lightgbm_line(7, "validation", [("rmse", 0.125), ("l1", 0.1)]),
    ]
    assert lines[1] == "#quality_metric: host=algo-1, epoch=0 validation mse_objective <loss>=0.5"
    assert lines[2] == "#test_score (algo-1) : ('mse', 0.25)"
    assert lines[3] == "[7]#011validation's rmse: 0.12500#011validation's l1: 0.10000"
    found = extract_metrics(
        "\n".join(lines),
        [
            quality_metric_definition("train:objective_loss", "train"),
            quality_metric_definition("validation:objective_loss", "validation"),
            score_definition("test", "mse"),
            lightgbm_definition("rmse"),
            lightgbm_definition("l1"),
        ],
    )
    assert found == {
        "train:objective_loss": 0.75,
        "validation:objective_loss": 0.5,
        "test:mse": 0.25,
        "rmse": 0.125,
        "l1": 0.1,
    }


def test_extract_metrics_last_match_wins_and_bad_regexes_are_skipped() -> None:
    log = "loss=1.0\nloss=0.5\nloss=oops\n"
    found = extract_metrics(
        log, [{"Name": "loss", "Regex": r"loss=(\S+)"}, {"Name": "bad", "Regex": "("}]
    )
    assert found == {"loss": 0.5}


def test_final_metrics_lines_and_file(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = MetricLog(stream)
    log.final("validation:rmse", 0.1234567891234)
    log.final("test:f1", float("nan"))  # not finite: not reported
    log.finals({"train:rmse": 1.0})
    assert stream.getvalue().splitlines() == [
        "#metric validation:rmse=0.1234567891234",
        "#metric train:rmse=1.0",
    ]
    assert final_line("a:b", 2) == "#metric a:b=2.0"
    assert parse_final_metrics(stream.getvalue() + "noise\n#metric x=1e-3\n") == {
        "validation:rmse": 0.1234567891234,
        "train:rmse": 1.0,
        "x": 0.001,
    }
    path = log.write(tmp_path / "output")
    assert json.loads(path.read_text()) == {
        "FinalMetricDataList": [
            {"MetricName": "validation:rmse", "Value": 0.1234567891234},
            {"MetricName": "train:rmse", "Value": 1.0},
        ]
    }
    assert read_metrics_file(tmp_path / "output") == log.final_metrics
    assert read_metrics_file(tmp_path / "missing") == {}
    (tmp_path / "output" / "metrics.json").write_text("{broken")
    assert read_metrics_file(tmp_path / "output") == {}
