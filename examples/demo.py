"""The Lakeworks demo: the ML workflow end to end on the embedded default.

Run it with ``scripts/demo``. It starts (or reuses) the local server under ``$LAKEWORKS_HOME``
(default ``~/.lakeworks``) and walks through what works today:

1. the lake through the native SDK: a bucket, an upload, a listing;
2. the same lake through boto3, unchanged AWS code pointed at Lakeworks;
3. a script job that reads its input channel, writes a model and logs, run in the
   SageMaker container layout, and its logs and artifact;
4. a crawler catalogs the raw data and SQL answers a question about it; a Firehose stream
   delivers records into the lake and SQL queries them too;
5. a profile job reports on the raw data and the book's wine recipe engineers its features;
   a raw CSV uploaded under glue-in/ fires a notification, a function starts a Glue job and the
   job writes glue-out/wine_scaled.csv (the book's chapter 4, through boto3);
6. the built-in XGBoost algorithm trains and tunes through the SageMaker API (boto3, unchanged);
7. the trained model is deployed to an endpoint and invoked with CSV;
8. a batch transform job scores a CSV object with the same model and writes test.csv.out.

Each capability that lands joins this walk.
"""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path
from typing import Any

import boto3
import pandas as pd

import lakeworks

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "datasets" / "book" / "wine-canvas.csv"
RECIPE = REPO / "src" / "lakeworks" / "dataprep" / "examples" / "wine.yaml"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"

TRAIN_SCRIPT = '''\
"""A tiny "training" script in SageMaker script mode: mean price per country."""
import argparse, csv, json, os, pathlib

parser = argparse.ArgumentParser()
parser.add_argument("--target", default="price")
args = parser.parse_args()

rows = list(csv.DictReader(open(pathlib.Path(os.environ["SM_CHANNEL_TRAIN"]) / "wine.csv")))
print(f"read {len(rows)} rows from the train channel")
sums = {}
for row in rows:
    try:
        value = float(row[args.target])
    except (KeyError, ValueError):
        continue
    total, count = sums.get(row.get("country", "?"), (0.0, 0))
    sums[row.get("country", "?")] = (total + value, count + 1)
model = {country: total / count for country, (total, count) in sums.items()}
pathlib.Path(os.environ["SM_MODEL_DIR"], "model.json").write_text(json.dumps(model))
print(f"learned the mean {args.target} of {len(model)} countries")
'''


def synthetic_wine(rows: int = 600) -> bytes:
    """Wine reviews shaped like the book's data, for a machine without ``shared/datasets``."""
    import numpy as np

    rng = np.random.default_rng(7)
    countries = rng.choice(["US", "France", "Italy", "Spain", "Portugal"], rows)
    points = rng.integers(80, 100, rows)
    base = {"US": 35.0, "France": 30.0, "Italy": 45.0, "Spain": 28.0, "Portugal": 20.0}
    price = [
        round(base[c] + 2.5 * (p - 80) + rng.normal(0, 5), 1)
        for c, p in zip(countries, points, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "country": countries,
            "designation": rng.choice(["Reserve", "Estate", "Old Vine", None], rows),
            "points": points.astype(float),
            "price": price,
            "province": rng.choice(["North", "South", "Coast"], rows),
            "region_1": rng.choice(["Valley", "Hills", None], rows),
            "region_2": None,
            "variety": rng.choice(["Red Blend", "Chardonnay", "Pinot Noir", "Syrah"], rows),
            "winery": rng.choice([f"Winery {i}" for i in range(40)], rows),
        }
    )
    return frame.to_csv(index=False).encode()


def step(title: str) -> None:
    print(f"\n== {title}")


def wait_for(describe: Any, field: str, done: set[str], timeout: float = 300) -> dict[str, Any]:
    """Poll a boto3 describe call until ``field`` reaches one of ``done``."""
    deadline = time.monotonic() + timeout
    while True:
        answer: dict[str, Any] = describe()
        if answer[field] in done or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


GLUE_SCALE_SCRIPT = """
import io, sys
import boto3, pandas as pd
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["s3_input_dataset", "s3_output_key"])
bucket, _, key = args["s3_input_dataset"][len("s3://"):].partition("/")
s3 = boto3.client("s3")
frame = pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
numeric = frame.select_dtypes("number").columns
span = frame[numeric].max() - frame[numeric].min()
frame[numeric] = (frame[numeric] - frame[numeric].min()) / span
s3.put_object(Bucket=bucket, Key=args["s3_output_key"], Body=frame.to_csv(index=False).encode())
print("scaled", len(frame), "rows")
"""

START_GLUE_HANDLER = """
import urllib.parse
import boto3

def lambda_handler(event, context):
    record = event["Records"][0]
    key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
    uri = f"s3://{record['s3']['bucket']['name']}/{key}"
    run = boto3.client("glue").start_job_run(
        JobName="demo-scale-wine", Arguments={"--s3_input_dataset": uri}
    )
    return {"JobRunId": run["JobRunId"]}
"""


def triggered_pipeline(env: dict[str, str], bucket: str, data: bytes) -> None:
    """Chapter 4: raw CSV under glue-in/ → S3 notification → function → Glue job → glue-out/."""
    import zipfile

    from botocore.exceptions import ClientError

    aws = {
        "endpoint_url": env["AWS_ENDPOINT_URL"],
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": env["AWS_DEFAULT_REGION"],
    }
    s3, glue, lam = (boto3.client(name, **aws) for name in ("s3", "glue", "lambda"))
    s3.put_object(Bucket=bucket, Key="scripts/scale_wine.py", Body=GLUE_SCALE_SCRIPT.encode())
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", START_GLUE_HANDLER)
    exists = ("AlreadyExistsException", "ResourceConflictException")
    creations = (
        lambda: glue.create_job(
            Name="demo-scale-wine",
            Role="arn:aws:iam::000000000000:role/glue",
            Command={
                "Name": "pythonshell",
                "ScriptLocation": f"s3://{bucket}/scripts/scale_wine.py",
            },
            DefaultArguments={"--s3_output_key": "glue-out/wine_scaled.csv"},
        ),
        lambda: lam.create_function(
            FunctionName="demo-start-glue",
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/lambda",
            Handler="app.lambda_handler",
            Code={"ZipFile": code.getvalue()},
            Timeout=60,
        ),
    )
    for create in creations:
        try:
            create()
        except ClientError as exc:  # a second run of the demo finds them
            if exc.response["Error"]["Code"] not in exists:
                raise
    arn = lam.get_function(FunctionName="demo-start-glue")["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "glue-in/"}]}},
                }
            ]
        },
    )
    before = {r["Id"] for r in glue.get_job_runs(JobName="demo-scale-wine")["JobRuns"]}
    s3.put_object(Bucket=bucket, Key="glue-in/wine.csv", Body=data)
    print(f"  uploaded s3://{bucket}/glue-in/wine.csv; the notification invokes demo-start-glue")
    for _ in range(600):
        runs = glue.get_job_runs(JobName="demo-scale-wine")["JobRuns"]
        new = [r for r in runs if r["Id"] not in before]
        if new and new[0]["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            break
        time.sleep(0.5)
    print(f"  Glue run {new[0]['Id']}: {new[0]['JobRunState']} {new[0].get('ErrorMessage', '')}")
    head = s3.get_object(Bucket=bucket, Key="glue-out/wine_scaled.csv")["Body"].read()
    print(f"  s3://{bucket}/glue-out/wine_scaled.csv: {len(head.splitlines()) - 1} scaled rows")


def main() -> None:
    client = lakeworks.Client()  # LAKEWORKS_URL, or the local server (started if needed)
    print(f"Lakeworks {lakeworks.__version__} at {client.url} as {client.whoami().principal}")

    step("1. The lake through the native SDK")
    bucket = "demo"
    if bucket not in {b.name for b in client.buckets.list()}:
        client.buckets.create(bucket)
    data = DATA.read_bytes() if DATA.exists() else synthetic_wine()
    client.objects.put(bucket, "raw/wine.csv", data, content_type="text/csv")
    client.objects.put(bucket, "code/train.py", TRAIN_SCRIPT.encode(), content_type="text/x-python")
    for obj in client.objects.list(bucket):
        print(f"  s3://{bucket}/{obj.key:<20} {obj.size:>8} bytes  etag {obj.etag}")

    step("2. The same lake through boto3 (unchanged AWS code)")
    env = client.aws_env()
    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    s3.put_object(Bucket=bucket, Key="raw/notes.txt", Body=b"uploaded with boto3\n")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="raw/")
    for item in listed.get("Contents", []):
        print(f"  boto3 sees {item['Key']:<20} {item['Size']:>8} bytes")
    body = s3.get_object(Bucket=bucket, Key="raw/notes.txt")["Body"].read()
    print(f"  read back: {body.decode().strip()!r}")

    step("3. A script job in the SageMaker container layout")
    name = f"demo-train-{int(time.time())}"
    client.jobs.create(
        job_name=name,
        code_uri=f"s3://{bucket}/code/train.py",
        entry_point="train.py",
        hyperparameters={"target": "price"},
        input_data_config=[{"channel_name": "train", "s3_uri": f"s3://{bucket}/raw/wine.csv"}],
        output_path=f"s3://{bucket}/models",
    )
    job = client.jobs.wait(name)
    print(f"  {name}: {job.status} ({job.secondary_status})")
    print("  logs:")
    for chunk in client.jobs.logs(name):
        for line in chunk.splitlines():
            print(f"    | {line}")
    assert job.model_artifacts, "the job produced no model artifact"
    artifact_key = job.model_artifacts.split(f"s3://{bucket}/", 1)[1]
    blob = s3.get_object(Bucket=bucket, Key=artifact_key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(blob)) as archive:
        print(f"  model artifact {job.model_artifacts} holds {archive.getnames()}")

    step("4. Catalog the raw data with a crawler, then ask SQL")
    client.objects.put(bucket, "datasets/wine/wine.csv", data, content_type="text/csv")
    if "demo" not in {d.name for d in client.catalog.databases.list()}:
        client.catalog.databases.create("demo")
    crawler = f"demo-crawler-{int(time.time())}"
    client.crawlers.create(crawler, database_name="demo", targets=[f"s3://{bucket}/datasets/"])
    client.crawlers.start(crawler)
    client.crawlers.wait(crawler)
    table = client.catalog.tables.get("demo", "wine")
    print(
        f"  table demo.wine: {len(table.storage_descriptor.columns)} columns at "
        f"{table.storage_descriptor.location}"
    )
    answer = client.sql_frame(
        "SELECT country, count(*) AS wines, round(avg(price), 2) AS avg_price "
        "FROM wine GROUP BY country ORDER BY wines DESC LIMIT 5",
        database="demo",
    )
    for line in answer.to_string(index=False).splitlines():
        print(f"  {line}")

    step("4b. Stream records into the lake with a Firehose delivery stream (boto3)")
    firehose = boto3.client(
        "firehose",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    if "demo-reviews" not in firehose.list_delivery_streams()["DeliveryStreamNames"]:
        firehose.create_delivery_stream(
            DeliveryStreamName="demo-reviews",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/demo",
                "BucketARN": f"arn:aws:s3:::{bucket}",
                "Prefix": "stream/reviews/",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
            },
        )
    wines = pd.read_csv(io.BytesIO(data)).head(300)
    lines = [row.to_json().encode() + b"\n" for _, row in wines[["country", "price"]].iterrows()]
    firehose.put_record_batch(
        DeliveryStreamName="demo-reviews", Records=[{"Data": line} for line in lines]
    )
    deadline = time.time() + 60
    while sum(
        o["Size"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix="stream/reviews/").get("Contents", [])
    ) < sum(map(len, lines)):
        assert time.time() < deadline, "the stream did not deliver in 60 s"
        time.sleep(0.5)
    print(f"  {len(lines)} records acknowledged and delivered under s3://{bucket}/stream/reviews/")
    crawler = f"demo-stream-crawler-{int(time.time())}"
    client.crawlers.create(crawler, database_name="demo", targets=[f"s3://{bucket}/stream/"])
    client.crawlers.start(crawler)
    client.crawlers.wait(crawler)
    streamed = client.sql_frame(
        "SELECT count(*) AS records, count(DISTINCT country) AS countries FROM reviews",
        database="demo",
    )
    print(f"  SQL over the streamed table demo.reviews: {streamed.to_dict('records')[0]}")

    step("5. Profile the raw data and engineer features with the wine recipe")
    profile = client.processing_jobs.wait(
        client.profiles.create(f"s3://{bucket}/datasets/wine/wine.csv").processing_job_name
    )
    print(f"  profile job {profile.processing_job_status}: {client.profiles.report_uri(profile)}")
    if "wine" not in {r.name for r in client.recipes.list()}:
        client.recipes.create(RECIPE)
    fit = client.processing_jobs.wait(
        client.recipes.fit(
            "wine", f"s3://{bucket}/datasets/wine/wine.csv", f"s3://{bucket}/features/"
        ).processing_job_name
    )
    print(f"  recipe fit job {fit.processing_job_status}; outputs: {fit.outputs}")

    step("5b. The triggered pipeline: upload → notification → function → Glue job (chapter 4)")
    triggered_pipeline(env, bucket, data)

    step("6. Train and tune the built-in XGBoost through the SageMaker API (boto3)")
    frame = pd.read_csv(io.BytesIO(data)).dropna(subset=["price", "points"])
    train = frame[["price", "points"]].assign(
        **{f"is_{c}": (frame["country"] == c).astype(int) for c in ("US", "France", "Italy")}
    )
    buffer = io.StringIO()
    train.to_csv(buffer, header=False, index=False)  # label first, no header: as AWS reads it
    s3.put_object(Bucket=bucket, Key="xgb/train/train.csv", Body=buffer.getvalue().encode())
    sm = boto3.client(
        "sagemaker",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    tjob = f"demo-xgb-{int(time.time())}"
    sm.create_training_job(
        TrainingJobName=tjob,
        AlgorithmSpecification={"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::000000000000:role/demo",
        HyperParameters={"num_round": "50", "objective": "reg:squarederror", "max_depth": "4"},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{bucket}/xgb/train/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/xgb/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    trained = wait_for(
        lambda: sm.describe_training_job(TrainingJobName=tjob),
        "TrainingJobStatus",
        {"Completed", "Failed", "Stopped"},
    )
    metrics = {
        m["MetricName"]: round(m["Value"], 3) for m in trained.get("FinalMetricDataList", [])
    }
    print(f"  {tjob}: {trained['TrainingJobStatus']}  metrics {metrics}")
    artifact = trained["ModelArtifacts"]["S3ModelArtifacts"]
    print(f"  artifact {artifact}")
    tuner = f"demo-tune-{int(time.time())}"
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuner,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "train:rmse"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "6"}],
                "ContinuousParameterRanges": [
                    {"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5"}
                ],
            },
        },
        TrainingJobDefinition={
            "StaticHyperParameters": {"num_round": "50", "objective": "reg:squarederror"},
            "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": "arn:aws:iam::000000000000:role/demo",
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "ContentType": "text/csv",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": f"s3://{bucket}/xgb/train/",
                        }
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/xgb/tuning"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 5,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    )
    tuned = wait_for(
        lambda: sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuner),
        "HyperParameterTuningJobStatus",
        {"Completed", "Failed", "Stopped"},
    )
    best = tuned.get("BestTrainingJob", {})
    objective = best.get("FinalHyperParameterTuningJobObjectiveMetric", {})
    print(
        f"  tuning {tuner}: {tuned['HyperParameterTuningJobStatus']}, best "
        f"{best.get('TunedHyperParameters')} train:rmse {objective.get('Value', float('nan')):.3f}"
    )

    step("7. Deploy the model to an endpoint and invoke it")
    stamp = int(time.time())
    model, config, endpoint = f"demo-model-{stamp}", f"demo-config-{stamp}", f"demo-ep-{stamp}"
    sm.create_model(
        ModelName=model,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": artifact},
        ExecutionRoleArn="arn:aws:iam::000000000000:role/demo",
    )
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    status = wait_for(
        lambda: sm.describe_endpoint(EndpointName=endpoint),
        "EndpointStatus",
        {"InService", "Failed"},
    )
    print(f"  endpoint {endpoint}: {status['EndpointStatus']}")
    runtime = boto3.client(
        "sagemaker-runtime",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    rows = "92,1,0,0\n92,0,1,0\n95,0,0,1"
    reply = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=rows)
    answer_text = reply["Body"].read().decode().replace("\n", ",")
    prices = ", ".join(f"{float(v):.2f}" for v in answer_text.split(",") if v.strip())
    print(f"  predicted prices (92-pt US, 92-pt French, 95-pt Italian wine): {prices}")
    sm.delete_endpoint(EndpointName=endpoint)

    step("8. Score a file with a batch transform job")
    s3.put_object(Bucket=bucket, Key="batch/test.csv", Body=rows.encode())
    job = f"demo-transform-{stamp}"
    sm.create_transform_job(
        TransformJobName=job,
        ModelName=model,
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/batch/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{bucket}/batch-out/{job}", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    done = wait_for(
        lambda: sm.describe_transform_job(TransformJobName=job),
        "TransformJobStatus",
        {"Completed", "Failed", "Stopped"},
    )
    print(f"  transform job {job}: {done['TransformJobStatus']} {done.get('FailureReason', '')}")
    if done["TransformJobStatus"] == "Completed":
        out = s3.get_object(Bucket=bucket, Key=f"batch-out/{job}/test.csv.out")["Body"].read()
        scored = ", ".join(f"{float(v):.2f}" for v in out.decode().split())
        print(f"  s3://{bucket}/batch-out/{job}/test.csv.out: {scored}")
    print("\nDone. Stop the server with: .venv/bin/lakeworks server stop")


if __name__ == "__main__":
    main()
