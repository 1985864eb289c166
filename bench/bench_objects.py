"""PUT/GET of a 100 MB object through boto3 against Lakeworks vs a plain file copy."""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig

from lakeworks.testing.process import server_process

SIZE = 100 * 1024 * 1024
ROUNDS = 3


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _durable_copy(src: Path, dst: Path) -> None:
    with src.open("rb") as source, dst.open("wb") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)
        sink.flush()
        os.fsync(sink.fileno())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = work / "blob.bin"
        with src.open("wb") as f:
            for _ in range(SIZE // (1 << 20)):
                f.write(os.urandom(1 << 20))
        copy_times = [
            _timed(lambda: shutil.copyfile(src, work / "copy.bin")) for _ in range(ROUNDS)
        ]
        durable_times = [_timed(lambda: _durable_copy(src, work / "c2.bin")) for _ in range(ROUNDS)]
        data = src.read_bytes()
        hash_times = [
            _timed(lambda: (hashlib.md5(data).digest(), hashlib.sha256(data).digest()))
            for _ in range(ROUNDS)
        ]
        with server_process(work / "home") as server:
            env = server.aws_env()
            s3 = boto3.client(
                "s3",
                endpoint_url=env["AWS_ENDPOINT_URL"],
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                region_name="us-east-1",
            )
            s3.create_bucket(Bucket="bench")
            config = TransferConfig()  # boto3's defaults: 8 MB parts, 10 threads
            put_times = [
                _timed(lambda: s3.upload_file(str(src), "bench", "blob.bin", Config=config))
                for _ in range(ROUNDS)
            ]
            get_times = [
                _timed(
                    lambda: s3.download_file(
                        "bench", "blob.bin", str(work / "dl.bin"), Config=config
                    )
                )
                for _ in range(ROUNDS)
            ]
            assert (work / "dl.bin").stat().st_size == SIZE
    mb = SIZE / 1e6
    copy, durable, hashes, put, get = (
        statistics.median(t) for t in (copy_times, durable_times, hash_times, put_times, get_times)
    )
    print(f"100 MB, median of {ROUNDS} (2-core machine, one disk)")
    print(f"  plain file copy : {copy:6.2f} s  {mb / copy:7.1f} MB/s  (kernel copy, page cache)")
    print(f"  durable copy    : {durable:6.2f} s  {mb / durable:7.1f} MB/s  (read/write + fsync)")
    print(f"  MD5 + SHA-256   : {hashes:6.2f} s  (the hashing S3 semantics require, one pass)")
    print(
        f"  boto3 PUT       : {put:6.2f} s  {mb / put:7.1f} MB/s  ratio {copy / put:6.1%} of copy"
    )
    print(
        f"  boto3 GET       : {get:6.2f} s  {mb / get:7.1f} MB/s  ratio {copy / get:6.1%} of copy"
    )
    print(f"  vs durable copy : PUT {durable / put:6.1%}  GET {durable / get:6.1%}")


if __name__ == "__main__":
    main()
