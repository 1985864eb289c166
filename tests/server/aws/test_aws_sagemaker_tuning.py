"""Automatic model tuning through the front door: real server, real boto3, real (tiny) trials.

The trials are scikit-learn-image scripts that print a loss computed from their
hyperparameters, so a tuning job of four trials takes seconds.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.aws.sagemaker_support import (
    ROLE,
    SKLEARN_IMAGE,
    XGBOOST_IMAGE,
    error_of,
    s3_channel,
    sourcedir,
    wait_tuning,
)

pytestmark = pytest.mark.slow

BUCKET = "tuning"
TRIAL = """
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
parser.add_argument("--depth", type=int)
parser.add_argument("--kind")
args = parser.parse_args()
for step in range(1, 4):
    loss = (args.x - 0.3) ** 2 + 0.1 * abs(args.depth - 3) + (0 if args.kind == "b" else 0.5)
    print(f"epoch={step} loss={loss + 1.0 / step:.6f}")
"""
SLEEPER = "import time\ntime.sleep(60)\n"
RANGES = {
    "ContinuousParameterRanges": [{"Name": "x", "MinValue": "-1", "MaxValue": "1"}],
    "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "6"}],
    "CategoricalParameterRanges": [{"Name": "kind", "Values": ['"a"', '"b"']}],
}


def definition(sources: str, regex: str = r"loss=([0-9.]+)") -> dict[str, Any]:
    return {
        "StaticHyperParameters": {
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"{sources}"',
        },
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "valid:loss", "Regex": regex}],
        },
        "RoleArn": ROLE,
        "InputDataConfig": [s3_channel("train", f"s3://{BUCKET}/train/")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def config(
    strategy: str = "Random", jobs: int | None = 4, parallel: int = 2, **extra: Any
) -> dict[str, Any]:
    limits: dict[str, Any] = {"MaxParallelTrainingJobs": parallel}
    if jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = jobs
    return {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "valid:loss"},
        "ResourceLimits": limits,
        "ParameterRanges": RANGES,
        **extra,
    }


@pytest.fixture(scope="module")
def sm(client: Any) -> Any:
    return client("sagemaker")


@pytest.fixture(scope="module")
def tuned(sm: Any, s3: Any) -> dict[str, Any]:
    """A Random tuning job of four trials, two at a time, run to the end."""
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="train/x.csv", Body=b"1,2\n")
    s3.put_object(Bucket=BUCKET, Key="code/trial.tar.gz", Body=sourcedir({"train.py": TRIAL}))
    s3.put_object(Bucket=BUCKET, Key="code/sleep.tar.gz", Body=sourcedir({"train.py": SLEEPER}))
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="random-four",
        HyperParameterTuningJobConfig=config(),
        TrainingJobDefinition=definition(f"s3://{BUCKET}/code/trial.tar.gz"),
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    return wait_tuning(sm, "random-four")


def test_a_tuning_job_runs_its_trials_and_names_the_best(tuned: dict[str, Any], sm: Any) -> None:
    assert tuned["HyperParameterTuningJobStatus"] == "Completed", tuned.get("FailureReason")
    assert tuned["TrainingJobStatusCounters"]["Completed"] == 4
    assert tuned["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    best = tuned["BestTrainingJob"]
    assert best["TrainingJobName"].startswith("random-four-")
    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="random-four",
        SortBy="FinalObjectiveMetricValue",
        SortOrder="Ascending",
    )["TrainingJobSummaries"]
    assert len(trials) == 4
    assert trials[0]["TrainingJobName"] == best["TrainingJobName"]
    values = [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in trials]
    assert values == sorted(values)
    for trial in trials:
        tuned_values = trial["TunedHyperParameters"]
        assert set(tuned_values) == {"x", "depth", "kind"}
        assert -1 <= float(tuned_values["x"]) <= 1
        assert tuned_values["kind"] in ('"a"', '"b"')
        x, depth = float(tuned_values["x"]), int(tuned_values["depth"])
        expected = (
            (x - 0.3) ** 2 + 0.1 * abs(depth - 3) + (0 if tuned_values["kind"] == '"b"' else 0.5)
        )
        value = trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        assert value == pytest.approx(expected + 1 / 3, abs=1e-5)


def test_trials_are_training_jobs_of_the_tuning_job(tuned: dict[str, Any], sm: Any) -> None:
    name = tuned["BestTrainingJob"]["TrainingJobName"]
    described = sm.describe_training_job(TrainingJobName=name)
    assert described["TuningJobArn"] == tuned["HyperParameterTuningJobArn"]
    assert described["HyperParameters"]["sagemaker_program"] == '"train.py"'
    starts = sorted(
        t["TrainingStartTime"]
        for t in sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="random-four"
        )["TrainingJobSummaries"]
    )
    assert len(starts) == 4


def test_tuning_jobs_are_listed_and_tagged(tuned: dict[str, Any], sm: Any) -> None:
    listed = sm.list_hyper_parameter_tuning_jobs(NameContains="random")
    (summary,) = listed["HyperParameterTuningJobSummaries"]
    assert summary["Strategy"] == "Random"
    assert summary["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 4
    tags = sm.list_tags(ResourceArn=tuned["HyperParameterTuningJobArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]


def test_an_objective_that_never_appears_fails_the_tuning_job(
    tuned: dict[str, Any], sm: Any
) -> None:
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="no-objective",
        HyperParameterTuningJobConfig=config(jobs=2),
        # Defined, but the trials never print what the regex looks for.
        TrainingJobDefinition=definition(f"s3://{BUCKET}/code/trial.tar.gz", r"accuracy=(\S+)"),
    )
    described = wait_tuning(sm, "no-objective")
    assert described["HyperParameterTuningJobStatus"] == "Failed"
    assert "valid:loss" in described["FailureReason"]
    assert described["ObjectiveStatusCounters"]["Failed"] == 2
    trials = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="no-objective"
    )["TrainingJobSummaries"]
    assert all(t["ObjectiveStatus"] == "Failed" for t in trials)
    assert all(t["TrainingJobStatus"] == "Completed" for t in trials)
    assert "valid:loss" in trials[0]["FailureReason"]


def test_warm_start_from_a_finished_parent(tuned: dict[str, Any], sm: Any) -> None:
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="warm",
        HyperParameterTuningJobConfig=config(strategy="Bayesian", jobs=2),
        TrainingJobDefinition=definition(f"s3://{BUCKET}/code/trial.tar.gz"),
        WarmStartConfig={
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "random-four"}],
            "WarmStartType": "IdenticalDataAndAlgorithm",
        },
    )
    described = wait_tuning(sm, "warm")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    overall = described["OverallBestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    own = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    parent = tuned["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    assert overall["Value"] == min(own["Value"], parent["Value"])


def test_stopping_a_tuning_job_stops_its_trials(tuned: dict[str, Any], sm: Any) -> None:
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="to-stop",
        HyperParameterTuningJobConfig=config(jobs=3, parallel=1),
        TrainingJobDefinition=definition(f"s3://{BUCKET}/code/sleep.tar.gz"),
    )
    deadline = time.monotonic() + 60
    while not sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="to-stop"
    )["TrainingJobSummaries"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="to-stop")
    described = wait_tuning(sm, "to-stop")
    assert described["HyperParameterTuningJobStatus"] == "Stopped"
    assert described["TrainingJobStatusCounters"]["Stopped"] == 1
    with pytest.raises(ClientError) as caught:
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="to-stop")
    assert error_of(caught)[0] == "ValidationException"


def _refused(sm: Any, **request: Any) -> str:
    with pytest.raises(ClientError) as caught:
        sm.create_hyper_parameter_tuning_job(**request)
    code, message, _ = error_of(caught)
    assert code == "ValidationException"
    return message


def _xgboost_definition() -> dict[str, Any]:
    return {
        **definition(""),
        "StaticHyperParameters": {"num_round": "10", "objective": "reg:squarederror"},
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
    }


def _xgboost_config(ranges: dict[str, Any], metric: str = "validation:rmse") -> dict[str, Any]:
    return {
        **config(),
        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": metric},
        "ParameterRanges": ranges,
    }


def test_a_range_outside_what_the_algorithm_accepts_is_refused(
    tuned: dict[str, Any], sm: Any
) -> None:
    message = _refused(
        sm,
        HyperParameterTuningJobName="bad-eta",
        HyperParameterTuningJobConfig=_xgboost_config(
            {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0", "MaxValue": "2"}]}
        ),
        TrainingJobDefinition=_xgboost_definition(),
    )
    assert "'eta'" in message
    assert "[0, 1]" in message


def test_an_unknown_tuned_hyperparameter_is_named(tuned: dict[str, Any], sm: Any) -> None:
    message = _refused(
        sm,
        HyperParameterTuningJobName="bad-name",
        HyperParameterTuningJobConfig=_xgboost_config(
            {"IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "5"}]}
        ),
        TrainingJobDefinition=_xgboost_definition(),
    )
    assert "Unknown hyperparameter 'depth'" in message
    assert "max_depth" in message


def test_an_objective_the_algorithm_does_not_report_is_refused(
    tuned: dict[str, Any], sm: Any
) -> None:
    message = _refused(
        sm,
        HyperParameterTuningJobName="bad-metric",
        HyperParameterTuningJobConfig=_xgboost_config(
            {"IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "5"}]},
            metric="validation:accuracy-ish",
        ),
        TrainingJobDefinition=_xgboost_definition(),
    )
    assert "validation:rmse" in message


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"Strategy": "Grid"}, "categorical"),
        ({"ResourceLimits": {"MaxParallelTrainingJobs": 2}}, "MaxNumberOfTrainingJobs"),
        (
            {
                "ParameterRanges": {
                    "ContinuousParameterRanges": [
                        {
                            "Name": "x",
                            "MinValue": "0",
                            "MaxValue": "1",
                            "ScalingType": "Logarithmic",
                        }
                    ]
                }
            },
            "MinValue > 0",
        ),
        ({"TrainingJobEarlyStoppingType": "Auto", "Strategy": "Hyperband"}, "Hyperband"),
    ],
)
def test_bad_tuning_configs_are_refused(
    tuned: dict[str, Any], sm: Any, changes: dict[str, Any], needle: str
) -> None:
    message = _refused(
        sm,
        HyperParameterTuningJobName="bad-config",
        HyperParameterTuningJobConfig={**config(), **changes},
        TrainingJobDefinition=definition(f"s3://{BUCKET}/code/trial.tar.gz"),
    )
    assert needle in message


def test_missing_tuning_job_is_resource_not_found(sm: Any) -> None:
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="nope")
