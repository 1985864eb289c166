"""The batch transform job process: ``python -m lakeworks.hosting.batch.runner <transform.json>``.

The server staged the model (checked extraction, pickle refusal: :mod:`lakeworks.hosting.
artifacts`) and every input object into the job directory and wrote ``transform.json``. This
process loads the model with the model server's own code (:class:`~lakeworks.hosting.
model_server.WorkerApp`: the same handlers, Serial pipelines and Direct mode), cuts each input
into records, sends mini-batches to ``/invocations`` — in ``MaxConcurrentTransforms`` worker
processes when more than one — and writes one ``<input>.out`` file per input, which the server
uploads. A failure writes ``ClientError: …`` (naming the object and record) to
``output/failure`` and exits 1, so the job ends Failed with that reason.

Runs inside the job: imports only core, schemas and hosting's pure modules (no database, lake
or server code; see the import-linter contract).
"""

from __future__ import annotations

import concurrent.futures
import gzip
import json
import multiprocessing
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakeworks.core.errors import LakeworksError
from lakeworks.hosting.batch.records import (
    FORMATS,
    MB,
    RecordError,
    Step,
    assemble,
    batches,
    compile_path,
    filter_record,
    join_record,
    line_batches,
    payload,
    plain_lines,
    split_records,
    split_response,
)
from lakeworks.hosting.http1 import HttpRequest
from lakeworks.hosting.model_server import WorkerApp
from lakeworks.hosting.worker_spec import WorkerSpec

__all__ = ["TransformPlan", "main", "run"]


@dataclass(frozen=True)
class TransformPlan:
    """What ``transform.json`` holds (written by the server, read here)."""

    worker: str
    files: list[dict[str, str]]
    output_dir: str
    split_type: str = "None"
    batch_strategy: str = "MultiRecord"
    max_payload_mb: int = 6
    concurrency: int = 1
    content_type: str | None = None
    accept: str | None = None
    assemble_with: str = "None"
    compression: str = "None"
    input_filter: str | None = None
    output_filter: str | None = None
    join_source: str = "None"
    max_retries: int = 0


_APP: WorkerApp | None = None
#: Why this process could not load the model (a worker reports it with its first answer).
_LOAD_ERROR: str | None = None


def _load(worker: str) -> None:
    """Load the model of ``worker.json`` into this process (never raises: see _LOAD_ERROR)."""
    global _APP, _LOAD_ERROR
    _APP, _LOAD_ERROR = None, None
    try:
        _APP = WorkerApp(WorkerSpec.from_json(Path(worker).read_text()))
    except LakeworksError as exc:
        _LOAD_ERROR = f"Cannot load the model: {exc.message}"
    except Exception as exc:  # the model's own code (model_fn) may raise anything
        _LOAD_ERROR = f"Cannot load the model: {type(exc).__name__}: {exc}"


def _invoke(body: bytes, headers: dict[str, str], retries: int) -> tuple[int, bytes, str]:
    if _APP is None:
        raise RecordError(_LOAD_ERROR or "The model is not loaded")
    for attempt in range(retries + 1):
        response = _APP(HttpRequest("POST", "/invocations", headers, body))
        if response.status < 500 or attempt == retries:
            break
    return response.status, response.body, response.content_type


@dataclass
class _Job:
    """One mini-batch: where it came from, its records as read (joined with the answers) and
    the request body (of the records after the InputFilter)."""

    source: int
    first: int
    count: int
    body: bytes
    records: list[bytes]


class Transformer:
    """Runs one plan."""

    def __init__(self, plan: TransformPlan) -> None:
        self.plan = plan
        self.in_fmt = FORMATS.get((plan.content_type or "").split(";")[0].strip().lower())
        self.input_filter = self._path(plan.input_filter)
        self.output_filter = self._path(plan.output_filter)
        self.join = plan.join_source == "Input"
        self.per_record = self.join or self.output_filter is not None
        self.headers = {"content-type": plan.content_type or "application/octet-stream"}
        if plan.accept:
            self.headers["accept"] = plan.accept
        self.records = 0
        #: When the model was ready (``perf_counter``; with workers: when the first answer came).
        self.ready_at: float | None = None

    @staticmethod
    def _path(expression: str | None) -> Step | None:
        return compile_path(expression) if expression and expression.strip() != "$" else None

    def _read(self, index: int) -> bytes:
        item = self.plan.files[index]
        data = Path(item["local"]).read_bytes()
        if self.plan.compression == "Gzip":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise RecordError(f"{item['key']} is not gzip data: {exc}") from None
        return data

    def jobs(self) -> Iterator[_Job]:
        """Every mini-batch of every input, in order."""
        plan = self.plan
        limit = plan.max_payload_mb * MB
        whole_lines = (
            plan.split_type == "Line"
            and plan.batch_strategy == "MultiRecord"
            and self.input_filter is None
            and not self.per_record
        )
        for index, item in enumerate(plan.files):
            data = self._read(index)
            if whole_lines and plain_lines(data):
                # Mini-batches cut straight from the bytes: no copy per record.
                empty = True
                for first, count, body in line_batches(data, limit, item["key"]):
                    empty = False
                    yield _Job(index, first, count, body, [])
                if empty:  # its .out is written all the same (empty)
                    yield _Job(index, 0, 0, b"", [])
                continue
            try:
                records = split_records(data, plan.split_type)
            except RecordError as exc:
                raise RecordError(f"{item['key']}: {exc}") from None
            sent = records
            if self.input_filter is not None:
                assert self.in_fmt is not None  # checked on create
                sent = [
                    filter_record(r, self.in_fmt, self.input_filter, _where(item, n))
                    for n, r in enumerate(records)
                ]
            sizes = [len(r) for r in sent]
            if not records:
                yield _Job(index, 0, 0, b"", [])
            for batch in batches(sizes, plan.batch_strategy, limit, plan.split_type, item["key"]):
                body = payload(sent[batch.start : batch.stop], plan.split_type)
                chunk = records[batch.start : batch.stop]
                yield _Job(index, batch.start, len(chunk), body, chunk)

    def outputs(self, job: _Job, answer: tuple[int, bytes, str]) -> list[bytes]:
        """The parts this mini-batch adds to its ``.out`` file."""
        status, body, content_type = answer
        item = self.plan.files[job.source]
        what = _where(item, job.first, job.count)
        if status != 200:
            text = body.decode("utf-8", "replace")[:500]
            raise RecordError(f"The model failed on {what} with status {status}: {text}")
        self.records += job.count
        if not self.per_record:
            return [body]
        out_fmt = FORMATS.get(content_type.split(";")[0].strip().lower())
        answers = split_response(body, out_fmt, job.count, what)
        parts = []
        for offset, (record, output) in enumerate(zip(job.records, answers, strict=True)):
            where = _where(item, job.first + offset)
            fmt = out_fmt or "csv"
            if self.join:
                if self.in_fmt is None:
                    raise RecordError(f"{where}: JoinSource Input needs CSV or JSON input")
                output = join_record(record, output, self.in_fmt, fmt, where)
                fmt = self.in_fmt
            if self.output_filter is not None:
                output = filter_record(output, fmt, self.output_filter, where)
            parts.append(output)
        return parts

    def run(self) -> int:
        """Transform every input; returns the number of records sent to the model."""
        plan = self.plan
        parts: dict[int, list[bytes]] = {i: [] for i in range(len(plan.files))}
        done = -1

        def flush(upto: int) -> None:
            nonlocal done
            for index in range(done + 1, upto):
                item = plan.files[index]
                target = Path(item["output"])
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(assemble(parts.pop(index), plan.assemble_with))
            done = max(done, upto - 1)

        for job, answer in self._answers():
            flush(job.source)
            if job.count:
                parts[job.source].extend(self.outputs(job, answer))
        flush(len(plan.files))
        return self.records

    def _answers(self) -> Iterator[tuple[_Job, tuple[int, bytes, str]]]:
        plan = self.plan
        empty = (200, b"", "")
        if plan.concurrency <= 1:
            _load(plan.worker)
            if _APP is None:
                raise RecordError(_LOAD_ERROR or "The model is not loaded")
            self.ready_at = time.perf_counter()
            for job in self.jobs():
                yield (
                    job,
                    (_invoke(job.body, self.headers, plan.max_retries) if job.count else empty),
                )
            return
        # Worker processes load the model themselves (spawned: no OpenMP state forked).
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(
            plan.concurrency, mp_context=context, initializer=_load, initargs=(plan.worker,)
        ) as pool:
            pending: list[
                tuple[_Job, concurrent.futures.Future[tuple[int, bytes, str]] | None]
            ] = []
            for job in self.jobs():
                future = (
                    pool.submit(_invoke, job.body, self.headers, plan.max_retries)
                    if job.count
                    else None
                )
                pending.append((job, future))
                while len(pending) > plan.concurrency * 4:  # bounded memory, in order
                    first, head = pending.pop(0)
                    answer = head.result() if head else empty
                    self.ready_at = self.ready_at or time.perf_counter()
                    yield first, answer
            for job, future in pending:
                yield job, future.result() if future else empty


def _where(item: dict[str, str], first: int, count: int = 1) -> str:
    if count == 1:
        return f"record {first + 1} of {item['key']}"
    return f"records {first + 1}-{first + count} of {item['key']}"


def run(plan: TransformPlan) -> int:
    """Transform every input of ``plan``; returns the number of records.

    Raises:
        RecordError: What the job fails with.
    """
    return Transformer(plan).run()


def main(argv: list[str] | None = None) -> int:
    """Run ``transform.json``; 0 on success, 1 with ``output/failure`` written otherwise."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m lakeworks.hosting.batch.runner <transform.json>", file=sys.stderr)
        return 2
    data: dict[str, Any] = json.loads(Path(args[0]).read_text())
    plan = TransformPlan(**data)
    output = Path(plan.output_dir)
    started = time.perf_counter()
    transformer = Transformer(plan)
    try:
        count = transformer.run()
    except Exception as exc:  # everything a job can fail with ends up in its FailureReason
        message = exc.message if isinstance(exc, LakeworksError) else str(exc)
        if not isinstance(exc, RecordError | LakeworksError):
            message = f"{type(exc).__name__}: {message}"
        reason = f"ClientError: {message}"
        print(reason, file=sys.stderr, flush=True)
        (output / "failure").write_text(reason)
        return 1
    (output / "transform.json").write_text(json.dumps({"records": count}))
    ended = time.perf_counter()
    ready = transformer.ready_at or started
    print(
        f"transformed {count} records in {len(plan.files)} objects in {ended - started:.3f} s; "
        f"model ready after {ready - started:.3f} s, then {count / max(ended - ready, 1e-9):.0f} "
        "records/s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
