"""The SageMaker container layout, script-mode environment and command line (pure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.jobs.layout import (
    JobPaths,
    check_spec,
    command,
    create_layout,
    failure_reason,
    training_environment,
)
from lakeworks.schemas.jobs import JobCreate


def spec(**fields: Any) -> JobCreate:
    base: dict[str, Any] = {
        "job_name": "layout-1",
        "code_uri": "s3://code/src.tar.gz",
        "entry_point": "train.py",
        "hyperparameters": {"epochs": "10", "lr": "0.1", "optimizer": '"adam"', "name": "plain"},
        "arguments": ["--verbose"],
        "input_data_config": [
            {"channel_name": "train", "s3_uri": "s3://data/train/", "content_type": "text/csv"},
            {"channel_name": "validation", "s3_uri": "s3://data/val/"},
        ],
    }
    return JobCreate(**{**base, **fields})


def test_config_files_are_written_as_sagemaker_writes_them(tmp_path: Path) -> None:
    paths = JobPaths(tmp_path / "job")
    create_layout(paths, spec())
    config = paths.config_dir
    assert json.loads((config / "hyperparameters.json").read_text()) == {
        "epochs": "10",
        "lr": "0.1",
        "optimizer": '"adam"',
        "name": "plain",
    }
    assert json.loads((config / "inputdataconfig.json").read_text()) == {
        "train": {
            "ContentType": "text/csv",
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        },
        "validation": {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        },
    }
    assert json.loads((config / "resourceconfig.json").read_text()) == {
        "current_host": "algo-1",
        "hosts": ["algo-1"],
        "network_interface_name": "eth0",
    }
    for directory in ("input/data/train", "input/data/validation", "model", "output/data"):
        assert (paths.root / directory).is_dir()
    assert not paths.code_dir.exists()  # staging creates it (an archive needs it absent)


def test_command_puts_arguments_then_sorted_hyperparameters() -> None:
    assert command("/usr/bin/python3", spec()) == [
        "/usr/bin/python3",
        "train.py",
        "--verbose",
        "--epochs",
        "10",
        "--lr",
        "0.1",
        "--name",
        "plain",
        "--optimizer",
        "adam",
    ]


def test_script_mode_environment(tmp_path: Path) -> None:
    paths = JobPaths(tmp_path / "job")
    env = training_environment("layout-1", spec(), paths, num_cpus=4)
    assert env["TRAINING_JOB_NAME"] == "layout-1"
    assert env["SM_MODEL_DIR"] == str(paths.root / "model")
    assert env["SM_OUTPUT_DATA_DIR"] == str(paths.root / "output/data")
    assert env["SM_INPUT_DIR"] == str(paths.root / "input")
    assert env["SM_OUTPUT_DIR"] == str(paths.root / "output")
    assert env["SM_CHANNEL_TRAIN"] == str(paths.root / "input/data/train")
    assert env["SM_CHANNEL_VALIDATION"] == str(paths.root / "input/data/validation")
    assert json.loads(env["SM_CHANNELS"]) == ["train", "validation"]
    assert json.loads(env["SM_HPS"]) == {
        "epochs": 10,
        "lr": 0.1,
        "optimizer": "adam",
        "name": "plain",
    }
    assert env["SM_HP_EPOCHS"] == "10"
    assert env["SM_HP_OPTIMIZER"] == "adam"
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert env["SM_NUM_CPUS"] == "4"
    assert env["SM_USER_ENTRY_POINT"] == "train.py"
    assert env["SM_MODULE_NAME"] == "train"
    assert json.loads(env["SM_USER_ARGS"]) == command("python", spec())[2:]
    training = json.loads(env["SM_TRAINING_ENV"])
    assert training["job_name"] == "layout-1"
    assert training["channel_input_dirs"]["train"] == env["SM_CHANNEL_TRAIN"]
    assert training["hyperparameters"]["lr"] == 0.1
    assert all(isinstance(v, str) for v in env.values())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code_uri": None}, "code_uri is required"),
        ({"entry_point": "/abs/train.py"}, "must be a relative path"),
        ({"entry_point": "../train.py"}, "must be a relative path"),
        ({"entry_point": "src/./train.py"}, "must be a relative path"),
        ({"entry_point": "src\\train.py"}, "must be a relative path"),
        ({"hyperparameters": {"-x": "1"}}, "Invalid hyperparameter name '-x'"),
        ({"hyperparameters": {"x": "v" * 2501}}, "longer than 2500"),
        ({"environment": {"1BAD": "x"}}, "Invalid environment variable name"),
        ({"environment": {"AWS_SECRET_ACCESS_KEY": "x"}}, "set by Lakeworks"),
        ({"environment": {"SM_MODEL_DIR": "/tmp"}}, "set by Lakeworks"),
        ({"environment": {"LAKEWORKS_AUTH_MASTER_KEY": "x"}}, "set by Lakeworks"),
        ({"environment": {"X": "a\x00b"}}, "no NUL"),
        (
            {
                "input_data_config": [
                    {"channel_name": "a", "s3_uri": "s3://data/x"},
                    {"channel_name": "a", "s3_uri": "s3://data/y"},
                ]
            },
            "unique",
        ),
    ],
)
def test_check_spec_refuses_with_a_reason(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("\\", "\\\\")):
        check_spec(spec(**fields))


def test_check_spec_accepts_nested_entry_points_and_plain_variables() -> None:
    check_spec(spec(entry_point="src/train.py", environment={"MY_VAR": "1", "PYTHONPATH": "x"}))


def test_failure_reason_rules() -> None:
    assert failure_reason(2, "bad input\n", "noise") == "AlgorithmError: exit code 2: bad input"
    assert failure_reason(-9, None, "") == "AlgorithmError: killed by signal SIGKILL: no output"
    tail = "\n".join(f"line {i}" for i in range(30))
    reason = failure_reason(1, "  ", tail)
    assert reason.startswith("AlgorithmError: exit code 1: last output:\nline 20\n")
    long = failure_reason(1, "x" * 5000, "")
    assert len(long) == 1024
    assert long.endswith("xxx")
    assert "..." in long
