"""The Lakeworks demo: the ML workflow end to end on the embedded default.

Run it with ``scripts/demo``. It starts (or reuses) the local server under ``$LAKEWORKS_HOME``
(default ``~/.lakeworks``) and walks through what works today:

1. the lake through the native SDK: a bucket, an upload, a listing;
2. the same lake through boto3, unchanged AWS code pointed at Lakeworks;
3. a script job that reads its input channel, writes a model and logs, run in the
   SageMaker container layout, and its logs and artifact.

Each capability that lands joins this walk.
"""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import boto3

import lakeworks

DATA = (
    Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "book" / "wine-canvas.csv"
)

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


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> None:
    client = lakeworks.Client()  # LAKEWORKS_URL, or the local server (started if needed)
    print(f"Lakeworks {lakeworks.__version__} at {client.url} as {client.whoami().principal}")

    step("1. The lake through the native SDK")
    bucket = "demo"
    if bucket not in {b.name for b in client.buckets.list()}:
        client.buckets.create(bucket)
    data = DATA.read_bytes() if DATA.exists() else b"country,price\nItaly,20\nFrance,30\n"
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
    print("\nDone. Stop the server with: .venv/bin/lakeworks server stop")


if __name__ == "__main__":
    main()
