"""SageMaker training jobs through the front door: a real server process and the real boto3.

One batch of jobs is submitted at the start of the module (they run two at a time) and each test
checks one of them; mistakes caught at create time need no job at all.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import tarfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.server.aws.sagemaker_support import (
    LOG_GROUP,
    ROLE,
    SKLEARN_IMAGE,
    error_of,
    label_first_csv,
    regression,
    s3_channel,
    script_job,
    sourcedir,
    training_job,
    wait_training,
)

pytestmark = pytest.mark.slow

BUCKET = "training"

CHECKPOINT_SCRIPT = """
import json, os, sys, tempfile
ckpt = os.environ["LAKEWORKS_CHECKPOINT_DIR"]
before = sorted(os.listdir(ckpt))
print("restored", before)
with open(os.path.join(ckpt, "epoch-2.ckpt"), "w") as f:
    f.write("state 2")
for epoch, loss in enumerate([0.9, 0.5, 0.25], start=1):
    print(f"epoch={epoch} loss={loss}")
env = {k: os.environ[k] for k in ("SM_NUM_GPUS", "SM_CURRENT_HOST", "SM_HOSTS", "SM_CHANNELS")}
print("env", json.dumps(env))
print("hps", os.environ["SM_HPS"], "argv", json.dumps(sys.argv[1:]))
print("tmp", tempfile.gettempdir(), "home", os.environ["HOME"])
model = os.environ["SM_MODEL_DIR"]
with open(os.path.join(model, "weights.txt"), "w") as f:
    f.write("w")
os.symlink("/etc/hostname", os.path.join(model, "leak"))
"""


@pytest.fixture(scope="module")
def sm(client: Any) -> Any:
    return client("sagemaker")


@pytest.fixture(scope="module")
def logs(client: Any) -> Any:
    return client("logs")


def _put(s3: Any, key: str, body: bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


@pytest.fixture(scope="module")
def batch(s3: Any, sm: Any, logs: Any) -> dict[str, dict[str, Any]]:
    """Submit every job of the module at once; yield their final descriptions by name."""
    s3.create_bucket(Bucket=BUCKET)
    features, y = regression()
    data = label_first_csv(features, y)
    _put(s3, "train/part-1.csv", data)
    _put(s3, "validation/v.csv.gz", gzip.compress(label_first_csv(*regression(60, seed=1))))
    _put(s3, "header/train.csv", label_first_csv(features, y, header="price,a,b,c"))
    _put(s3, "many/a.csv", data)
    _put(s3, "many/b.csv", data)
    _put(s3, "many/ignored.csv", b"not,numbers\n")
    manifest = json.dumps([{"prefix": f"s3://{BUCKET}/many/"}, "a.csv", "b.csv"]).encode()
    _put(s3, "manifests/train.json", manifest)
    _put(s3, "ckpt/run/epoch-1.ckpt", b"state 1")
    sources = {
        "raises": _put(
            s3,
            "code/raises.tar.gz",
            sourcedir(
                {"train.py": "def fit():\n    raise ValueError('boom: bad column')\nfit()\n"}
            ),
        ),
        "checkpoint": _put(s3, "code/ckpt.tar.gz", sourcedir({"train.py": CHECKPOINT_SCRIPT})),
        "sleeper": _put(
            s3,
            "code/sleep.tar.gz",
            sourcedir({"train.py": "import time\nprint('up', flush=True)\ntime.sleep(60)\n"}),
        ),
        "escape": _put(s3, "code/escape.tar.gz", sourcedir({"../escape.py": "print('x')\n"})),
    }
    requests = [
        training_job(
            "xgb-ok",
            BUCKET,
            InputDataConfig=[
                s3_channel("train", f"s3://{BUCKET}/train/"),
                s3_channel("validation", f"s3://{BUCKET}/validation/", CompressionType="Gzip"),
            ],
            Tags=[{"Key": "project", "Value": "book"}],
        ),
        training_job(
            "csv-header", BUCKET, InputDataConfig=[s3_channel("train", f"s3://{BUCKET}/header/")]
        ),
        training_job(
            "manifest",
            BUCKET,
            InputDataConfig=[
                {
                    "ChannelName": "train",
                    "ContentType": "text/csv",
                    "InputMode": "Pipe",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "ManifestFile",
                            "S3Uri": f"s3://{BUCKET}/manifests/train.json",
                        }
                    },
                }
            ],
        ),
        script_job("script-raises", BUCKET, sources["raises"]),
        script_job(
            "script-ckpt",
            BUCKET,
            sources["checkpoint"],
            extra_hyperparameters={"alpha": "0.5", "kernel": '"rbf"'},
            AlgorithmSpecification={
                "TrainingImage": SKLEARN_IMAGE,
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "train:loss", "Regex": r"loss=([0-9.]+)"}],
            },
            ResourceConfig={
                "InstanceType": "ml.p3.2xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 5,
            },
            CheckpointConfig={"S3Uri": f"s3://{BUCKET}/ckpt/run"},
        ),
        script_job("escape", BUCKET, sources["escape"]),
        script_job("sleeper", BUCKET, sources["sleeper"]),
    ]
    for request in requests:
        sm.create_training_job(**request)
    deadline = time.monotonic() + 60
    while "up" not in events(logs, "sleeper"):
        assert time.monotonic() < deadline, "the sleeper never started"
        time.sleep(0.1)
    sm.stop_training_job(TrainingJobName="sleeper")
    return {r["TrainingJobName"]: wait_training(sm, r["TrainingJobName"]) for r in requests}


def events(logs: Any, name: str) -> list[str]:
    """The messages of job ``name``'s log stream so far (none before it has one)."""
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{name}/")
    if not streams["logStreams"]:
        return []
    stream = streams["logStreams"][0]["logStreamName"]
    page = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True)
    return [e["message"] for e in page["events"]]


# -- a built-in algorithm end to end ----------------------------------------------------------


def test_xgboost_trains_and_describe_reads_like_sagemaker(
    batch: dict[str, dict[str, Any]], s3: Any
) -> None:
    job = batch["xgb-ok"]
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["SecondaryStatus"] == "Completed"
    assert job["TrainingJobArn"] == "arn:aws:sagemaker:us-east-1:000000000000:training-job/xgb-ok"
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://{BUCKET}/output/xgb-ok/output/model.tar.gz"
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert statuses[-5:] == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all(t["StartTime"] <= t["EndTime"] for t in job["SecondaryStatusTransitions"])
    finals = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert set(finals) >= {"train:rmse", "validation:rmse"}
    assert 0 < finals["validation:rmse"] < 1.5
    assert job["TrainingTimeInSeconds"] >= 0
    assert job["BillableTimeInSeconds"] == job["TrainingTimeInSeconds"]
    assert job["TrainingStartTime"] <= job["TrainingEndTime"]
    assert job["HyperParameters"]["num_round"] == "10"
    assert job["InputDataConfig"][1]["CompressionType"] == "Gzip"
    assert job["RoleArn"] == ROLE
    body = s3.get_object(Bucket=BUCKET, Key="output/xgb-ok/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert "xgboost-model" in tar.getnames()


def test_list_training_jobs_filters_sorts_and_pages(batch: dict[str, Any], sm: Any) -> None:
    listed = sm.list_training_jobs(NameContains="XGB", MaxResults=100)["TrainingJobSummaries"]
    assert [j["TrainingJobName"] for j in listed] == ["xgb-ok"]
    failed = sm.list_training_jobs(StatusEquals="Failed", SortBy="Name", SortOrder="Ascending")
    assert [j["TrainingJobName"] for j in failed["TrainingJobSummaries"]] == [
        "csv-header",
        "escape",
        "script-raises",
    ]
    pages = sm.get_paginator("list_training_jobs").paginate(PaginationConfig={"PageSize": 2})
    names = [j["TrainingJobName"] for page in pages for j in page["TrainingJobSummaries"]]
    assert sorted(names) == sorted(batch)
    newest_first = sm.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
    times = [j["CreationTime"] for j in newest_first]
    assert times == sorted(times, reverse=True)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert sm.list_training_jobs(CreationTimeAfter=tomorrow)["TrainingJobSummaries"] == []
    everything = sm.list_training_jobs(CreationTimeBefore=tomorrow, MaxResults=100)
    assert len(everything["TrainingJobSummaries"]) == len(batch)


def test_tags_are_kept(batch: dict[str, Any], sm: Any) -> None:
    arn = batch["xgb-ok"]["TrainingJobArn"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "project", "Value": "book"}]


def test_a_manifest_channel_stages_the_objects_it_lists(batch: dict[str, Any], logs: Any) -> None:
    job = batch["manifest"]
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    lines = events(logs, "manifest")
    assert any("400 rows" in line for line in lines)  # a.csv and b.csv, not ignored.csv
    assert any("Pipe input mode" in line for line in lines)


# -- failures with their cause ------------------------------------------------------------------


def test_csv_with_a_header_fails_with_row_and_column(batch: dict[str, Any]) -> None:
    job = batch["csv-header"]
    assert job["TrainingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("ClientError:")
    assert "row 1, column 1" in reason
    assert "'price' is not a number" in reason
    assert "ModelArtifacts" not in job


def test_a_script_that_raises_fails_with_its_traceback_tail(batch: dict[str, Any]) -> None:
    job = batch["script-raises"]
    assert job["TrainingJobStatus"] == "Failed"
    assert "ValueError: boom: bad column" in job["FailureReason"]
    assert "exit code 1" in job["FailureReason"]


def test_a_source_archive_escaping_its_directory_is_refused(batch: dict[str, Any]) -> None:
    job = batch["escape"]
    assert job["TrainingJobStatus"] == "Failed"
    assert "'..'" in job["FailureReason"]


def test_a_stopped_job_ends_stopped(batch: dict[str, Any], sm: Any) -> None:
    job = batch["sleeper"]
    assert job["TrainingJobStatus"] == "Stopped"
    with pytest.raises(ClientError) as caught:
        sm.stop_training_job(TrainingJobName="sleeper")
    code, message, status = error_of(caught)
    assert (code, status) == ("ValidationException", 400)
    assert "Stopped" in message


# -- script mode, checkpoints, metrics, containment --------------------------------------------


def test_script_mode_gets_sagemakers_contract(batch: dict[str, Any], logs: Any) -> None:
    job = batch["script-ckpt"]
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    lines = events(logs, "script-ckpt")
    env = json.loads(next(line for line in lines if line.startswith("env "))[4:])
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"]
    assert json.loads(env["SM_CHANNELS"]) == ["train"]
    hps_line = next(line for line in lines if line.startswith("hps "))
    assert '"alpha": 0.5' in hps_line
    assert '"kernel": "rbf"' in hps_line
    assert "sagemaker_program" not in hps_line
    assert '"--alpha", "0.5", "--kernel", "rbf"' in hps_line
    if env["SM_NUM_GPUS"] == "0":
        assert any("has 1 GPU(s) but this machine has none" in line for line in lines)


def test_metric_definitions_feed_final_metrics(batch: dict[str, Any]) -> None:
    finals = {m["MetricName"]: m["Value"] for m in batch["script-ckpt"]["FinalMetricDataList"]}
    assert finals == {"train:loss": 0.25}


def test_checkpoints_are_restored_and_uploaded(batch: dict[str, Any], s3: Any, logs: Any) -> None:
    assert batch["script-ckpt"]["TrainingJobStatus"] == "Completed"
    assert any("restored ['epoch-1.ckpt']" in line for line in events(logs, "script-ckpt"))
    saved = s3.get_object(Bucket=BUCKET, Key="ckpt/run/epoch-2.ckpt")["Body"].read()
    assert saved == b"state 2"


def test_a_job_writes_only_inside_its_directory(batch: dict[str, Any], s3: Any, logs: Any) -> None:
    lines = events(logs, "script-ckpt")
    where = next(line for line in lines if line.startswith("tmp ")).split()
    tmp, home = where[1], where[3]
    assert tmp.startswith(home)
    key = "output/script-ckpt/output/model.tar.gz"
    with tarfile.open(
        fileobj=io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    ) as tar:
        leak = tar.getmember("leak")
        assert leak.issym()  # stored as a link, never as the server file it points to
        assert tar.extractfile("weights.txt").read() == b"w"  # type: ignore[union-attr]


# -- mistakes caught at create time -------------------------------------------------------------


def _refused(sm: Any, request: dict[str, Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        sm.create_training_job(**request)
    with pytest.raises(ClientError):
        sm.describe_training_job(TrainingJobName=request["TrainingJobName"])
    return error_of(caught)


def test_unknown_hyperparameter_is_named_with_the_allowed_ones(
    batch: dict[str, Any], sm: Any
) -> None:
    request = training_job("bad-hp", BUCKET)
    request["HyperParameters"]["num_rounds"] = "10"
    code, message, status = _refused(sm, request)
    assert (code, status) == ("ValidationException", 400)
    assert "Unknown hyperparameter 'num_rounds'" in message
    assert "num_round" in message.split("allowed:")[1]


def test_out_of_range_hyperparameter_states_the_range(batch: dict[str, Any], sm: Any) -> None:
    request = training_job("bad-eta", BUCKET)
    request["HyperParameters"]["eta"] = "1.5"
    code, message, _ = _refused(sm, request)
    assert code == "ValidationException"
    assert "'eta'" in message
    assert "[0, 1]" in message


def test_missing_train_channel_is_refused(batch: dict[str, Any], sm: Any) -> None:
    request = training_job(
        "no-train", BUCKET, InputDataConfig=[s3_channel("validation", f"s3://{BUCKET}/train/")]
    )
    code, message, _ = _refused(sm, request)
    assert code == "ValidationException"
    assert "needs a 'train' channel" in message


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        (
            {
                "AlgorithmSpecification": {
                    "TrainingImage": "myrepo/custom:1",
                    "TrainingInputMode": "File",
                }
            },
            "not a built-in algorithm",
        ),
        (
            {
                "ResourceConfig": {
                    "InstanceType": "ml.m5.large",
                    "InstanceCount": 2,
                    "VolumeSizeInGB": 5,
                }
            },
            "InstanceCount",
        ),
        ({"OutputDataConfig": {"S3OutputPath": "s3://no-such-bucket/out"}}, "does not exist"),
        ({"RoleArn": "arn:aws:iam::not-an-account:role/x"}, "RoleArn"),
        ({"CheckpointConfig": {"S3Uri": f"s3://{BUCKET}/c", "LocalPath": "/tmp/ckpt"}}, "/opt/ml"),
        (
            {
                "AlgorithmSpecification": {
                    "TrainingImage": SKLEARN_IMAGE,
                    "TrainingInputMode": "File",
                    "MetricDefinitions": [{"Name": "m", "Regex": "no group"}],
                }
            },
            "group",
        ),
        (
            {
                "AlgorithmSpecification": {
                    "TrainingImage": SKLEARN_IMAGE,
                    "TrainingInputMode": "File",
                }
            },
            "sagemaker_program",
        ),
    ],
)
def test_other_mistakes_are_validation_errors(
    batch: dict[str, Any], sm: Any, changes: dict[str, Any], needle: str
) -> None:
    code, message, status = _refused(sm, training_job("bad-request", BUCKET, **changes))
    assert (code, status) == ("ValidationException", 400)
    assert needle in message


def test_pytorch_without_torch_names_the_extra(batch: dict[str, Any], sm: Any) -> None:
    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here")
    request = script_job("torch-job", BUCKET, f"s3://{BUCKET}/code/ckpt.tar.gz")
    request["AlgorithmSpecification"]["TrainingImage"] = (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310"
    )
    code, message, _ = _refused(sm, request)
    assert code == "ValidationException"
    assert "lakeworks[pytorch]" in message


def test_a_name_is_never_reused(batch: dict[str, Any], sm: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sm.create_training_job(**training_job("xgb-ok", BUCKET))
    code, message, _ = error_of(caught)
    assert code == "ResourceInUse"
    assert "already exists" in message
    assert batch["xgb-ok"]["TrainingJobStatus"] == "Completed"


def test_describe_of_a_missing_job_is_resource_not_found(sm: Any) -> None:
    with pytest.raises(sm.exceptions.ResourceNotFound) as caught:
        sm.describe_training_job(TrainingJobName="never-was")
    assert "never-was" in error_of(caught)[1]
