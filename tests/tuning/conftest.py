"""A whole training + tuning stack on the FakeBackend: real database, lake, jobs, training and
tuning services, but trials whose "process" prints a loss curve computed from their
hyperparameters instead of training anything.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lakeworks.backends.base import Handle, LaunchSpec
from lakeworks.core.context import RequestContext
from lakeworks.db import Database
from lakeworks.iam.secrets import SecretBox
from lakeworks.iam.service import IamService
from lakeworks.jobs.service import JobService
from lakeworks.lake.service import LakeService
from lakeworks.schemas.tuning import TuningJobCreate, TuningJobInfo
from lakeworks.testing import make_settings
from lakeworks.testing.fake_backend import FakeBackend, FakeMachine, FakeOutcome
from lakeworks.training.service import TrainingService
from lakeworks.tuning.service import TuningService

ADMIN = RequestContext(principal="admin", scopes=frozenset({"read", "write", "admin"}))
BUCKET = "tuning"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"

#: trial → (loss curve, seconds it runs); the default is the curve of ``default_curve``.
CurveOf = Callable[[int, dict[str, str]], tuple[list[float], float]]


def default_curve(number: int, hps: dict[str, str]) -> tuple[list[float], float]:
    """A loss falling over five steps towards ``(x - 0.3)**2``."""
    del number
    x = float(hps.get("x", "0"))
    floor = (x - 0.3) ** 2
    return [floor + 1.0 / step for step in range(1, 6)], 0.0


class CurveBackend(FakeBackend):
    """A FakeBackend whose jobs print ``epoch=N loss=V`` for the curve ``curve_of`` gives."""

    curve_of: CurveOf = staticmethod(default_curve)

    def submit(self, spec: LaunchSpec) -> Handle:
        config = spec.job_dir / "input" / "config" / "hyperparameters.json"
        hps = json.loads(config.read_text())
        match = re.search(r"-(\d{3})-[0-9a-f]{8}$", spec.job_name)
        number = int(match.group(1)) if match else 0
        curve, seconds = self.curve_of(number, hps)
        lines = "".join(f"epoch={i} loss={v:.6f}\n" for i, v in enumerate(curve, start=1))
        self.script(spec.job_name, FakeOutcome(output=lines.encode(), duration=seconds))
        return super().submit(spec)

    def restarted(self) -> CurveBackend:
        clone = CurveBackend(self.settings, machine=self.machine, default=self.default)
        clone.scripts = dict(self.scripts)
        clone.curve_of = self.curve_of
        return clone


@dataclass
class Stack:
    """The services of one "server"."""

    jobs: JobService
    training: TrainingService
    tuning: TuningService
    backend: CurveBackend
    lake: LakeService

    def start(self) -> None:
        self.jobs.start()
        self.training.start()
        self.tuning.start()

    def close(self) -> None:
        self.tuning.close()
        self.training.close()
        self.jobs.close()

    def wait(self, name: str, timeout: float = 60) -> TuningJobInfo:
        """Wait until tuning job ``name`` has ended."""
        deadline = time.monotonic() + timeout
        while True:
            info = self.tuning.describe_tuning_job(ADMIN, name)
            if info.hyper_parameter_tuning_job_status in ("Completed", "Failed", "Stopped"):
                return info
            if time.monotonic() > deadline:
                pytest.fail(f"tuning job {name} still {info.hyper_parameter_tuning_job_status}")
            time.sleep(0.02)


MakeStack = Callable[..., Stack]


def sourcedir() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"print('fake')\n"
        info = tarfile.TarInfo("train.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[MakeStack]:
    """Build stacks on one home and database; ``make_stack(backend=...)`` shares a fake machine."""
    settings = make_settings(
        tmp_path / "home", jobs={"poll_interval_seconds": 0.02, "max_concurrent": 8}
    )
    db = Database(settings.database_url)
    db.upgrade()
    machine = FakeMachine()
    made: list[Stack] = []

    def make(curve_of: CurveOf = default_curve, *, start: bool = True) -> Stack:
        iam = IamService(settings, db, SecretBox.from_home(settings.home, None))
        lake = LakeService(settings, db)
        backend = CurveBackend(settings, machine=machine)
        backend.curve_of = curve_of
        jobs = JobService(settings, db, iam, lake, backend)
        training = TrainingService(settings, db, lake, jobs)
        tuning = TuningService(settings, db, training)
        stack = Stack(jobs, training, tuning, backend, lake)
        if not made:
            lake.create_bucket(ADMIN, BUCKET)
            lake.put_object(ADMIN, BUCKET, "train/x.csv", io.BytesIO(b"1,2\n"))
            lake.put_object(ADMIN, BUCKET, "code/src.tar.gz", io.BytesIO(sourcedir()))
        made.append(stack)
        if start:
            stack.start()
        return stack

    yield make
    for stack in made:
        stack.close()
        stack.lake.close()
    db.dispose()


def tuning_request(
    name: str, *, strategy: str = "Random", jobs: int | None = 4, parallel: int = 2, **config: Any
) -> TuningJobCreate:
    """A tuning job over ``x`` in [-1, 1] (and ``kind``), minimising ``valid:loss``."""
    limits: dict[str, Any] = {"MaxParallelTrainingJobs": parallel}
    if jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = jobs
    body: dict[str, Any] = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "valid:loss"},
            "ResourceLimits": limits,
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "x", "MinValue": "-1", "MaxValue": "1"}]
            },
            **config,
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {
                "sagemaker_program": '"train.py"',
                "sagemaker_submit_directory": f'"s3://{BUCKET}/code/src.tar.gz"',
            },
            "AlgorithmSpecification": {
                "TrainingImage": SKLEARN_IMAGE,
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "valid:loss", "Regex": r"loss=([0-9.]+)"}],
            },
            "RoleArn": "arn:aws:iam::000000000000:role/r",
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/train/"}
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        },
    }
    return TuningJobCreate.model_validate(body)
