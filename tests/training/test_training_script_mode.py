"""Script mode's contract (hyperparameters, arguments, SM_* variables), the in-job launcher,
framework images and instance types, without a server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.training.instances import detect_gpus, parse_instance_type
from lakeworks.training.script_mode import (
    framework_for_repository,
    script_environment,
    split_hyperparameters,
    to_cmd_args,
)

# What the SageMaker SDK's framework estimators send (every value JSON-encoded).
SDK_HYPERPARAMETERS = {
    "sagemaker_program": '"train.py"',
    "sagemaker_submit_directory": '"s3://code/job/source/sourcedir.tar.gz"',
    "sagemaker_container_log_level": "20",
    "sagemaker_region": '"us-east-1"',
    "max_depth": "5",
    "kernel": '"rbf"',
    "verbose": "true",
    "layers": "[64, 32]",
    "options": '{"b": 2, "a": 1}',
    "plain": "not json",
}


def test_split_decodes_json_and_separates_the_toolkits_own() -> None:
    hps = split_hyperparameters(SDK_HYPERPARAMETERS)
    assert hps is not None
    assert hps.program == "train.py"
    assert hps.submit_directory == "s3://code/job/source/sourcedir.tar.gz"
    assert hps.user == {
        "max_depth": 5,
        "kernel": "rbf",
        "verbose": True,
        "layers": [64, 32],
        "options": {"b": 2, "a": 1},
        "plain": "not json",
    }
    assert hps.framework["sagemaker_container_log_level"] == 20
    assert split_hyperparameters({"num_round": "10"}) is None


def test_cmd_args_follow_the_sagemaker_training_toolkit() -> None:
    hps = split_hyperparameters(SDK_HYPERPARAMETERS)
    assert hps is not None
    assert to_cmd_args(hps.user) == [
        "--kernel",
        "rbf",
        "--layers",
        "[64, 32]",
        "--max_depth",
        "5",
        "--options",
        "a=1,b=2",
        "--plain",
        "not json",
        "--verbose",
        "True",
    ]


def test_script_environment_describes_the_script_and_hides_framework_parameters() -> None:
    hps = split_hyperparameters(SDK_HYPERPARAMETERS)
    assert hps is not None
    base = {"SM_TRAINING_ENV": json.dumps({"job_name": "j", "hyperparameters": {"x": 1}})}
    env = script_environment(base, hps, num_gpus=0, num_cpus=2)
    assert json.loads(env["SM_HPS"]) == hps.user
    assert json.loads(env["SM_USER_ARGS"]) == to_cmd_args(hps.user)
    assert env["SM_USER_ENTRY_POINT"] == "train.py"
    assert env["SM_MODULE_NAME"] == "train"
    assert env["SM_HP_KERNEL"] == "rbf"
    assert env["SM_NUM_GPUS"] == "0"
    assert env["SM_NUM_CPUS"] == "2"
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["job_name"] == "j"
    assert training_env["hyperparameters"] == hps.user
    assert "sagemaker_program" in training_env["additional_framework_parameters"]
    assert "sagemaker_program" not in env["SM_HPS"]


@pytest.mark.parametrize(
    ("repository", "framework"),
    [
        ("sagemaker-scikit-learn", "sklearn"),
        ("sagemaker-xgboost", "xgboost"),
        ("pytorch-training", "pytorch"),
        ("tensorflow-training", "tensorflow"),
        ("huggingface-pytorch-training", "huggingface"),
        ("my/namespace/sagemaker-scikit-learn", "sklearn"),
        ("linear-learner", None),
    ],
)
def test_framework_images(repository: str, framework: str | None) -> None:
    found = framework_for_repository(repository)
    assert (found.name if found else None) == framework


def test_instance_types_map_to_cpus_memory_and_gpus() -> None:
    m5 = parse_instance_type("ml.m5.xlarge")
    assert (m5.vcpus, m5.memory_gib, m5.gpus) == (4, 16, 0)
    assert parse_instance_type("ml.p3.2xlarge").gpus == 1
    assert parse_instance_type("ml.p3.16xlarge").gpus == 8
    assert parse_instance_type("ml.g5.12xlarge").gpus == 4
    assert parse_instance_type("ml.c5.large").memory_gib == 4
    with pytest.raises(ValidationError, match=r"ml\.<family>\.<size>"):
        parse_instance_type("m5.large")
    with pytest.raises(ValidationError, match="sizes"):
        parse_instance_type("ml.m5.hugemongous")


def test_the_launcher_prints_notes_and_files_then_becomes_the_command(tmp_path: Path) -> None:
    shown = tmp_path / "install.log"
    shown.write_text("pip said hello\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lakeworks.training.script_mode",
            "--note",
            "no GPU here",
            "--show",
            str(shown),
            "--",
            sys.executable,
            "-c",
            "import os, sys; print('child', os.getpid()); sys.exit(3)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3
    lines = done.stdout.splitlines()
    assert lines[:2] == ["pip said hello", "[lakeworks] no GPU here"]
    assert lines[2].startswith("child ")


def test_the_launcher_refuses_a_missing_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lakeworks.training.script_mode", "--note", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "usage" in done.stderr


def test_gpus_are_found_from_device_files_and_cuda_visible_devices(tmp_path: Path) -> None:
    assert detect_gpus(tmp_path, environ={}) == 0
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"):
        (tmp_path / name).touch()
    assert detect_gpus(tmp_path, environ={}) == 2
    assert detect_gpus(tmp_path, "1") == 1
    assert detect_gpus(tmp_path, "") == 0
    assert detect_gpus(tmp_path, "-1") == 0
    assert detect_gpus(tmp_path, "0,1,2,3") == 2
