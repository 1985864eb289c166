"""Where a front-door request spends its time: a profile helper, not a benchmark of record.

1. Over HTTP against a real server process: Feature Store ``GetRecord`` p50 through boto3, as a
   raw ``httpx`` request signed per call with botocore's ``SigV4Auth``, and through the native
   REST route with a bearer token; Firehose ``PutRecordBatch`` (500 × 200 B) p50 the same ways.
2. In process, no socket: the same signed requests driven straight into the ASGI app, timed
   (the server's own per-request cost) and profiled with cProfile (``--profile``), so the hot
   spots of the AWS path show without HTTP and client noise.

Run: ``.venv/bin/python bench/profile_frontdoor.py [--calls 2000] [--profile getrecord|firehose]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import http.client
import json
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lakeworks.core.context import RequestContext
from lakeworks.server.app import create_app
from lakeworks.server.platform import Platform
from lakeworks.testing import make_settings
from lakeworks.testing.process import server_process

DEFINITIONS = [
    {"FeatureName": "user", "FeatureType": "Integral"},
    {"FeatureName": "ts", "FeatureType": "Fractional"},
    {"FeatureName": "score", "FeatureType": "Fractional"},
    {"FeatureName": "segment", "FeatureType": "String"},
]


def _p50(values: list[float]) -> float:
    return sorted(values)[len(values) // 2] * 1000


def _time(calls: int, work: Callable[[int], Any]) -> float:
    times = []
    for i in range(calls):
        started = time.perf_counter()
        work(i)
        times.append(time.perf_counter() - started)
    return _p50(times)


def _firehose_body() -> bytes:
    records = []
    for i in range(500):
        head = json.dumps({"id": i, "pad": ""})[:-2]
        records.append((head + "x" * (200 - len(head) - 3) + '"}\n').encode())
    return json.dumps(
        {
            "DeliveryStreamName": "bench",
            "Records": [{"Data": base64.b64encode(r).decode()} for r in records],
        }
    ).encode()


def _signed(
    env: dict[str, str], service: str, method: str, url: str, body: bytes, headers: dict[str, str]
) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    credentials = Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    SigV4Auth(credentials, service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _setup(env: dict[str, str]) -> None:
    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    url = env["AWS_ENDPOINT_URL"]
    session.client("sagemaker", endpoint_url=url).create_feature_group(
        FeatureGroupName="online",
        RecordIdentifierFeatureName="user",
        EventTimeFeatureName="ts",
        FeatureDefinitions=DEFINITIONS,
        OnlineStoreConfig={"EnableOnlineStore": True},
    )
    rt = session.client("sagemaker-featurestore-runtime", endpoint_url=url)
    for user in range(100):
        record = {"user": str(user), "ts": "1700000000.0", "score": "0.5", "segment": "gold"}
        rt.put_record(
            FeatureGroupName="online",
            Record=[{"FeatureName": k, "ValueAsString": v} for k, v in record.items()],
        )
    session.client("s3", endpoint_url=url).create_bucket(Bucket="bench")
    session.client("firehose", endpoint_url=url).create_delivery_stream(
        DeliveryStreamName="bench",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/bench",
            "BucketARN": "arn:aws:s3:::bench",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
        },
    )


def over_http(calls: int) -> None:
    """Figures 1: a real server process and real clients."""
    with tempfile.TemporaryDirectory() as tmp, server_process(Path(tmp) / "home") as server:
        env = server.aws_env()
        _setup(env)
        url = env["AWS_ENDPOINT_URL"]
        rt = boto3.session.Session().client(
            "sagemaker-featurestore-runtime",
            endpoint_url=url,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        client = httpx.Client()

        def raw(i: int) -> None:
            target = f"{url}/FeatureGroup/online?RecordIdentifierValueAsString={i % 100}"
            headers = _signed(env, "sagemaker", "GET", target, b"", {})
            assert client.get(target, headers=headers).status_code == 200

        def native(i: int) -> None:
            answer = client.get(
                f"{url}/api/v1/feature-groups/online/records/{i % 100}",
                headers={"Authorization": f"Bearer {server.token}"},
            )
            assert answer.status_code == 200

        body = _firehose_body()
        signed = _signed(
            env,
            "firehose",
            "POST",
            url + "/",
            body,
            {
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Firehose_20150804.PutRecordBatch",
            },
        )

        def firehose(_: int) -> None:
            assert client.post(url + "/", content=body, headers=signed).status_code == 200

        # Signed once and replayed on a plain http.client connection: the client costs ~0.1 ms
        # (httpx ~0.6 ms, boto3 more), so this is closest to the server's own cost on a socket.
        get_path = "/FeatureGroup/online?RecordIdentifierValueAsString=7"
        get_signed = _signed(env, "sagemaker", "GET", url + get_path, b"", {})
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port)

        def replayed(_: int) -> None:
            connection.request("GET", get_path, headers=get_signed)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200

        boto = _time(
            calls,
            lambda i: rt.get_record(
                FeatureGroupName="online", RecordIdentifierValueAsString=str(i % 100)
            ),
        )
        print(f"GetRecord over HTTP, p50 of {calls}")
        print(f"  boto3                          {boto:7.3f} ms")
        print(f"  httpx, SigV4-signed per call   {_time(calls, raw):7.3f} ms")
        print(f"  httpx, native REST (bearer)    {_time(calls, native):7.3f} ms")
        print(f"  http.client, pre-signed replay {_time(calls, replayed):7.3f} ms")
        print(f"PutRecordBatch 500 × 200 B over HTTP, p50 of {calls // 10}")
        print(f"  httpx, pre-signed              {_time(calls // 10, firehose):7.3f} ms")


class _Asgi:
    """Drives signed requests straight into the app: the server's own cost per request."""

    def __init__(self, app: Any, base: str) -> None:
        self.app = app
        self.base = base
        self.loop = asyncio.new_event_loop()

    def call(self, method: str, url: str, headers: dict[str, str], body: bytes) -> int:
        """One request, on its own (setup calls)."""
        return self.loop.run_until_complete(self.acall(method, url, headers, body))

    def time(self, calls: int, args: tuple[str, str, dict[str, str], bytes]) -> float:
        """p50 of ``calls`` requests made inside one running loop (as a server's would be)."""

        async def run() -> list[float]:
            times = []
            for _ in range(calls):
                started = time.perf_counter()
                assert await self.acall(*args) == 200
                times.append(time.perf_counter() - started)
            return times

        return _p50(self.loop.run_until_complete(run()))

    async def acall(self, method: str, url: str, headers: dict[str, str], body: bytes) -> int:
        parts = urlsplit(url)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            + [(b"host", parts.netloc.encode()), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        status: list[int] = []
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await self.app(scope, receive, send)
        return status[0]


def in_process(calls: int, profile: str | None) -> None:
    """Figures 2 (and the profile): the ASGI app without a socket."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp) / "home")
        platform = Platform.open(settings)
        app = create_app(settings, platform)
        platform.start()
        try:
            creds = json.loads((settings.home / "credentials.json").read_text())
            env = {
                "AWS_ACCESS_KEY_ID": creds["access_key_id"],
                "AWS_SECRET_ACCESS_KEY": creds["secret_access_key"],
            }
            _in_process(app, env, creds["token"], calls, profile)
            system = RequestContext.system()
            alone = _time(calls, lambda i: platform.features.get_record(system, "online", "7"))
            print(f"  GetRecord service call alone   {alone:7.3f} ms")
        finally:
            platform.close()


def _json_call(asgi: _Asgi, env: dict[str, str], service: str, target: str, doc: Any) -> None:
    body = json.dumps(doc).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    signed = _signed(env, service, "POST", asgi.base + "/", body, headers)
    assert asgi.call("POST", asgi.base + "/", signed, body) == 200, target


def _in_process(app: Any, env: dict[str, str], token: str, calls: int, profile: str | None) -> None:
    asgi = _Asgi(app, "http://127.0.0.1:8600")
    base = asgi.base
    _json_call(
        asgi,
        env,
        "sagemaker",
        "SageMaker.CreateFeatureGroup",
        {
            "FeatureGroupName": "online",
            "RecordIdentifierFeatureName": "user",
            "EventTimeFeatureName": "ts",
            "FeatureDefinitions": DEFINITIONS,
            "OnlineStoreConfig": {"EnableOnlineStore": True},
        },
    )
    for user in range(100):
        record = {"user": str(user), "ts": "1700000000.0", "score": "0.5", "segment": "gold"}
        body = json.dumps(
            {"Record": [{"FeatureName": k, "ValueAsString": v} for k, v in record.items()]}
        ).encode()
        url = f"{base}/FeatureGroup/online"
        signed = _signed(env, "sagemaker", "PUT", url, body, {"Content-Type": "application/json"})
        assert asgi.call("PUT", url, signed, body) == 200
    bucket = AWSRequest(method="PUT", url=f"{base}/bench", data=b"")
    S3SigV4Auth(
        Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), "s3", "us-east-1"
    ).add_auth(bucket)
    assert asgi.call("PUT", f"{base}/bench", dict(bucket.headers.items()), b"") == 200
    _json_call(
        asgi,
        env,
        "firehose",
        "Firehose_20150804.CreateDeliveryStream",
        {
            "DeliveryStreamName": "bench",
            "ExtendedS3DestinationConfiguration": {
                "RoleARN": "arn:aws:iam::000000000000:role/bench",
                "BucketARN": "arn:aws:s3:::bench",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            },
        },
    )
    # Signed once, replayed: the server verifies each time, the client cost stays out.
    get_url = f"{base}/FeatureGroup/online?RecordIdentifierValueAsString=7"
    get_headers = _signed(env, "sagemaker", "GET", get_url, b"", {})
    fh_body = _firehose_body()
    fh_headers = _signed(
        env,
        "firehose",
        "POST",
        base + "/",
        fh_body,
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Firehose_20150804.PutRecordBatch",
        },
    )
    native_headers = {"Authorization": f"Bearer {token}"}
    native_url = f"{base}/api/v1/feature-groups/online/records/7"

    get = ("GET", get_url, get_headers, b"")
    put = ("POST", base + "/", fh_headers, fh_body)
    native = ("GET", native_url, native_headers, b"")
    print(f"In process (ASGI, no socket), p50 of {calls}")
    print(f"  GetRecord, AWS front door      {asgi.time(calls, get):7.3f} ms")
    print(f"  GetRecord, native REST         {asgi.time(calls, native):7.3f} ms")
    print(f"  PutRecordBatch 500 × 200 B     {asgi.time(calls // 10, put):7.3f} ms")
    if profile:
        args, count = (get, calls) if profile == "getrecord" else (put, calls // 10)
        # cProfile sees this thread only; worker-thread work shows as waiting on the hop.
        profiler = cProfile.Profile()
        profiler.enable()
        asgi.time(count, args)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--profile", choices=("getrecord", "firehose"))
    parser.add_argument("--no-http", action="store_true", help="only the in-process part")
    args = parser.parse_args()
    in_process(args.calls, args.profile)
    if not args.no_http:
        over_http(args.calls)


if __name__ == "__main__":
    main()
