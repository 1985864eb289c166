"""A job reaches the server with its own credentials: boto3 (S3, STS) and the native API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tests.jobs.conftest import wait_for

from lakeworks.testing.process import server_process

pytestmark = pytest.mark.slow

JOB = b"""
import json, os, urllib.request
import boto3

# No endpoint, key or region in the code: all of it comes from the job's environment.
s3 = boto3.client("s3")
data = s3.get_object(Bucket="work", Key="input.txt")["Body"].read().decode()
s3.put_object(Bucket="work", Key="from-job/result.txt", Body=data.upper().encode())
arn = boto3.client("sts").get_caller_identity()["Arn"]
request = urllib.request.Request(
    os.environ["LAKEWORKS_URL"] + "/api/v1/whoami",
    headers={"Authorization": "Bearer " + os.environ["LAKEWORKS_TOKEN"]},
)
me = json.load(urllib.request.urlopen(request))
print(json.dumps({"arn": arn, "principal": me["principal"], "scopes": me["scopes"]}))
"""


def test_a_job_uses_boto3_and_the_native_api_with_its_own_credentials(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"LAKEWORKS_JOBS_POLL_INTERVAL_SECONDS": "0.05"}
    with (
        server_process(home, env=env) as server,
        httpx.Client(
            base_url=f"{server.url}/api/v1",
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=30,
        ) as api,
    ):
        assert api.post("/buckets", json={"name": "work"}).status_code == 201
        api.put("/buckets/work/objects/job.py", content=JOB).raise_for_status()
        api.put("/buckets/work/objects/input.txt", content=b"hello lake").raise_for_status()
        created = api.post(
            "/jobs",
            json={"job_name": "aws-job", "code_uri": "s3://work/job.py", "entry_point": "job.py"},
        )
        assert created.status_code == 201, created.text

        def ended() -> dict[str, object] | None:
            info: dict[str, object] = api.get("/jobs/aws-job").json()
            return info if info["status"] not in ("InProgress", "Stopping") else None

        info = wait_for(ended, timeout=120)
        logs = api.get("/jobs/aws-job/logs").json()["data"]
        assert info["status"] == "Completed", (info["failure_reason"], logs)
        seen = json.loads(logs.strip().splitlines()[-1])
        assert seen == {
            "arn": "arn:aws:iam::000000000000:user/job/aws-job",
            "principal": "job/aws-job",
            "scopes": ["read", "write"],
        }
        result = api.get("/buckets/work/objects/from-job/result.txt")
        assert result.content == b"HELLO LAKE"

        # the job's credentials died with it
        tokens = api.get("/tokens", params={"principal": "job/aws-job"}).json()["items"]
        keys = api.get("/access-keys", params={"principal": "job/aws-job"}).json()["items"]
        assert len(tokens) == len(keys) == 1
        assert tokens[0]["revoked_at"] is not None
        assert keys[0]["revoked_at"] is not None
