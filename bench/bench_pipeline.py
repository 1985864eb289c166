"""Upload → notification → function → Glue job started: p50 latency (goal ≤ 2 s).

Three paths against one real server process, N runs each, timed from the upload call to the
moment ``GetJobRuns`` shows the run started for that object:

- chapter 4 through boto3: an S3 notification invokes a function that calls StartJobRun;
- a native EVENT trigger that starts the job itself (no function in between);
- baseline: the same function invoked directly with RequestResponse (no upload, no queue).
"""

from __future__ import annotations

import io
import json
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import httpx

from lakeworks.testing.process import server_process

RUNS = 10
BUCKET = "bench-pipeline"
HANDLER = """
import urllib.parse

import boto3


def handler(event, context):
    record = event["Records"][0]
    key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
    uri = f"s3://{record['s3']['bucket']['name']}/{key}"
    boto3.client("glue").start_job_run(JobName="noop", Arguments={"--s3_input_dataset": uri})
"""


def _started(glue: Any, uri: str) -> bool:
    runs = glue.get_job_runs(JobName="noop", MaxResults=50)["JobRuns"]
    return any(r.get("Arguments", {}).get("--s3_input_dataset") == uri for r in runs)


def _measure(start_one: Callable[[str], None], glue: Any, label: str) -> list[float]:
    times = []
    for i in range(RUNS):
        uri = f"s3://{BUCKET}/{label}/{i}.csv"
        began = time.perf_counter()
        start_one(uri)
        while not _started(glue, uri):
            time.sleep(0.01)
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, server_process(Path(tmp) / "home") as srv:
        env = srv.aws_env()
        session = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        s3, glue, lam = (
            session.client(name, endpoint_url=env["AWS_ENDPOINT_URL"])
            for name in ("s3", "glue", "lambda")
        )
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="noop.py", Body=b"print('ok')\n")
        glue.create_job(
            Name="noop",
            Role="r",
            Command={"Name": "pythonshell", "ScriptLocation": f"s3://{BUCKET}/noop.py"},
            ExecutionProperty={"MaxConcurrentRuns": 100},
        )
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("fn.py", HANDLER)
        arn = lam.create_function(
            FunctionName="start-noop",
            Runtime="python3.11",
            Role="r",
            Handler="fn.handler",
            Code={"ZipFile": code.getvalue()},
            Timeout=60,
        )["FunctionArn"]
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {
                        "LambdaFunctionArn": arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "s3/"}]}},
                    }
                ]
            },
        )
        with httpx.Client(
            base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}
        ) as api:
            api.post(
                "/api/v1/triggers",
                json={
                    "name": "native",
                    "type": "EVENT",
                    "event_source": {"bucket": BUCKET, "prefix": "native/"},
                    "actions": [
                        {"job_name": "noop", "arguments": {"--s3_input_dataset": "{s3_uri}"}}
                    ],
                    "start_on_creation": True,
                },
            ).raise_for_status()

        def upload(uri: str) -> None:
            s3.put_object(Bucket=BUCKET, Key=uri.split("/", 3)[3], Body=b"a,b\n1,2\n")

        def direct(uri: str) -> None:
            bucket, _, key = uri[len("s3://") :].partition("/")
            event = {"Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
            lam.invoke(FunctionName="start-noop", Payload=json.dumps(event).encode())

        results = {
            "S3 notification → function → StartJobRun": _measure(upload, glue, "s3"),
            "native EVENT trigger → job run": _measure(upload, glue, "native"),
            "baseline: function invoked directly": _measure(direct, glue, "direct"),
        }
    base = statistics.median(results["baseline: function invoked directly"])
    print(f"upload → job run started, p50 over {RUNS} runs (goal ≤ 2 s)")
    for label, times in results.items():
        p50 = statistics.median(times)
        print(
            f"  {label:45s} p50 {p50 * 1000:7.0f} ms  max {max(times) * 1000:7.0f} ms  "
            f"×{p50 / base:.2f} of baseline"
        )


if __name__ == "__main__":
    main()
