"""The transform job kind: staging a transform job's model and inputs, uploading its outputs.

Registered with the jobs service for ``job_type`` ``transform`` (see :mod:`lakeworks.jobs.kinds`):

* :meth:`TransformRuntime.prepare` (job Downloading) stages the model exactly as for an endpoint
  (:func:`lakeworks.hosting.artifacts.prepare_model`: checked extraction, pickles refused
  unless trusted) and writes its ``worker.json``; lists and downloads every input object
  (an ``S3Prefix`` or a manifest's keys); writes ``transform.json`` for the in-job runner
  (:mod:`lakeworks.hosting.batch.runner`) and picks its command.
* :meth:`TransformRuntime.finish` (process ended) uploads each ``<input>.out`` of a completed
  job under ``S3OutputPath`` (the input key relative to the prefix's folder, as SageMaker
  names them) and records how many records went through the model.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.db import Database
from lakeworks.hosting.artifacts import prepare_model
from lakeworks.hosting.batch import store
from lakeworks.hosting.batch.runner import TransformPlan
from lakeworks.hosting.store import HostedModelRecord
from lakeworks.hosting.worker_spec import WorkerSpec
from lakeworks.jobs import staging
from lakeworks.jobs.kinds import Launch
from lakeworks.jobs.layout import JobPaths
from lakeworks.jobs.service import JobService
from lakeworks.lake.service import LakeService
from lakeworks.schemas.hosting import ModelCreate
from lakeworks.schemas.jobs import JobCreate
from lakeworks.schemas.transform import TransformJobCreate

__all__ = ["TransformRuntime", "manifest_keys", "output_name"]

_MAX_MANIFEST = 16 * 1024 * 1024
_MAX_OBJECTS = 100_000
_MANIFEST_FORM = '[{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]'


def output_name(key: str, prefix: str) -> str:
    """The ``.out`` name of input ``key`` listed under ``prefix``: the key relative to the
    prefix's folder (``in/test.csv`` under ``in/`` or ``in/test`` → ``test.csv.out``)."""
    folder = prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""
    return key[len(folder) :] + ".out"


def manifest_keys(text: str, uri: str) -> tuple[str, list[str]]:
    """Parse a manifest (SageMaker's form): its prefix and relative keys.

    Raises:
        ValidationError: Not that form, or a key with ``..`` segments.
    """
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise ValidationError(
            f"The manifest {uri} is not JSON: expected {_MANIFEST_FORM}"
        ) from None
    if (
        not isinstance(data, list)
        or len(data) < 2
        or not isinstance(data[0], dict)
        or not isinstance(data[0].get("prefix"), str)
        or not data[0]["prefix"].startswith("s3://")
        or not all(isinstance(k, str) and k for k in data[1:])
    ):
        raise ValidationError(f"The manifest {uri} must list at least one key: {_MANIFEST_FORM}")
    for key in data[1:]:
        if ".." in key.split("/"):
            raise ValidationError(f"Manifest key {key!r} leaves its prefix")
    return data[0]["prefix"], [k.lstrip("/") for k in data[1:]]


class TransformRuntime:
    """Prepares and finishes transform jobs (the ``transform`` job kind).

    Args:
        db: The metadata database (transform and model tables).
        lake: Model artifacts, inputs and outputs.
        jobs: The jobs service (job owners).
    """

    def __init__(self, db: Database, lake: LakeService, jobs: JobService) -> None:
        self.db = db
        self.lake = lake
        self.jobs = jobs

    def _row(self, name: str) -> store.TransformJobRecord | None:
        with self.db.session() as session:
            return store.get_transform(session, name)

    # -- JobKind ------------------------------------------------------------------------------

    def check(self, spec: JobCreate) -> None:
        """Only the transform service creates transform jobs (it records them first)."""
        if self._row(spec.job_name) is None:
            raise ValidationError(
                "Jobs of type 'transform' are created with CreateTransformJob or "
                "POST /api/v1/transform-jobs",
                details={"field": "job_type"},
            )

    def prepare(self, ctx: RequestContext, name: str, spec: JobCreate, paths: JobPaths) -> Launch:
        """Stage the model and the inputs; write the runner's plan; choose the command.

        Raises:
            LakeworksError: What could not be staged (the job fails with ``ClientError: …``).
        """
        row = self._row(name)
        if row is None:
            raise ValidationError(f"Transform job {name!r} has no transform record")
        request = TransformJobCreate.model_validate(row.request)
        with self.db.session() as session:
            model_row = session.get(HostedModelRecord, request.model_name)
        if model_row is None:
            raise ValidationError(f"Model {request.model_name!r} no longer exists")
        model = ModelCreate(**model_row.spec)
        root = paths.root
        environment = {**request.environment, "SAGEMAKER_BATCH": "true"}
        plans = [
            replace(plan, environment={**plan.environment, **environment})
            for plan in prepare_model(self.lake, ctx, model, root / "model")
        ]
        mode = (
            model.inference_execution_config.mode if model.inference_execution_config else "Serial"
        )
        worker = WorkerSpec(name, "transform", tuple(plans), execution_mode=mode)
        worker.write(root / "worker.json")
        files = self._stage_inputs(ctx, request, root)
        resolved = self.resolved(request)
        processing = request.data_processing
        plan = TransformPlan(
            worker=str(root / "worker.json"),
            files=files,
            output_dir=str(paths.output_dir),
            split_type=request.transform_input.split_type,
            batch_strategy=resolved["batch_strategy"],
            max_payload_mb=resolved["max_payload_in_mb"],
            concurrency=resolved["max_concurrent_transforms"]
            * request.transform_resources.instance_count,
            content_type=request.transform_input.content_type,
            accept=request.transform_output.accept,
            assemble_with=request.transform_output.assemble_with,
            compression=request.transform_input.compression_type,
            input_filter=processing.input_filter if processing else None,
            output_filter=processing.output_filter if processing else None,
            join_source=processing.join_source if processing else "None",
            max_retries=(request.model_client_config.invocations_max_retries or 0)
            if request.model_client_config
            else 0,
        )
        (root / "transform.json").write_text(json.dumps(asdict(plan)))
        container_env: dict[str, str] = {}
        for item in plans:
            container_env.update(item.environment)
        tmp = root / "tmp"
        tmp.mkdir(exist_ok=True)
        env = {**container_env, "TRANSFORM_JOB_NAME": name, "TMPDIR": str(tmp)}
        argv = [
            sys.executable,
            "-m",
            "lakeworks.hosting.batch.runner",
            str(root / "transform.json"),
        ]
        return Launch(argv=argv, cwd=root, env=env)

    @staticmethod
    def resolved(request: TransformJobCreate) -> dict[str, Any]:
        """The batch settings in effect: the request's, else what the model server's
        ``/execution-parameters`` answers (MultiRecord, 6 MB, one at a time)."""
        concurrency = request.max_concurrent_transforms or 1
        return {
            "batch_strategy": request.batch_strategy or "MultiRecord",
            "max_payload_in_mb": 6
            if request.max_payload_in_mb is None
            else request.max_payload_in_mb,
            "max_concurrent_transforms": concurrency,
        }

    def _objects(
        self, ctx: RequestContext, request: TransformJobCreate, root: Path
    ) -> list[tuple[str, str]]:
        """``(s3 URI, .out name)`` of every input object."""
        source = request.transform_input.data_source.s3_data_source
        if source.s3_data_type == "ManifestFile":
            scratch = root / "manifest.json"
            self.lake.download(ctx, source.s3_uri, scratch)
            if scratch.stat().st_size > _MAX_MANIFEST:
                raise ValidationError(f"The manifest {source.s3_uri} is larger than 16 MiB")
            prefix, keys = manifest_keys(scratch.read_text("utf-8", "replace"), source.s3_uri)
            return [(staging.join_uri(prefix, key), key + ".out") for key in keys]
        bucket, prefix = staging.split_uri(source.s3_uri)
        found: list[tuple[str, str]] = []
        token: str | None = None
        while True:
            page = self.lake.list_objects(ctx, bucket, prefix=prefix, continuation_token=token)
            for item in page.items:
                if not item.key.endswith("/"):
                    found.append((f"s3://{bucket}/{item.key}", output_name(item.key, prefix)))
            token = page.next_token
            if token is None or len(found) > _MAX_OBJECTS:
                break
        if not found:
            raise ValidationError(
                f'No S3 objects found under S3 URL "{source.s3_uri}" given in input data source. '
                f"Please ensure that the bucket exists, that objects exist under that S3 prefix, "
                f'and that the caller may list bucket "{bucket}"'
            )
        if len(found) > _MAX_OBJECTS:
            raise ValidationError(f"More than {_MAX_OBJECTS} objects under {source.s3_uri}")
        return found

    def _stage_inputs(
        self, ctx: RequestContext, request: TransformJobCreate, root: Path
    ) -> list[dict[str, str]]:
        inputs, outputs = root / "inputs", root / "outputs"
        inputs.mkdir(exist_ok=True)
        outputs.mkdir(exist_ok=True)
        files = []
        for index, (uri, out) in enumerate(self._objects(ctx, request, root)):
            local = inputs / str(index)
            try:
                self.lake.download(ctx, uri, local)
            except NotFound:
                raise ValidationError(f"The input object {uri} does not exist") from None
            if not local.is_file():
                raise ValidationError(f"The manifest names {uri}, which is a prefix, not an object")
            files.append(
                {
                    "key": uri,
                    "local": str(local),
                    "output": str(outputs / f"{index}.out"),
                    "name": out,
                }
            )
        return files

    def finish(self, name: str, spec: JobCreate, paths: JobPaths, outcome: str) -> None:
        """For a completed job, upload every ``.out`` file and record the record count."""
        row = self._row(name)
        if row is None or row.finished:
            return
        values: dict[str, Any] = {"finished": True}
        if outcome == "Completed":
            request = TransformJobCreate.model_validate(row.request)
            owner = self.jobs.job_owner(name)
            ctx = (
                RequestContext(principal=owner[0], scopes=frozenset(owner[1]))
                if owner
                else RequestContext.system()
            )
            uploaded, failure = self._upload(ctx, request, paths.root)
            values["outputs"] = uploaded
            if failure is not None:
                values["upload_failure"] = failure
            try:
                summary = json.loads((paths.output_dir / "transform.json").read_text())
                values["records"] = int(summary["records"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        store.update_transform(self.db, name, **values)

    def _upload(
        self, ctx: RequestContext, request: TransformJobCreate, root: Path
    ) -> tuple[list[str], str | None]:
        plan = json.loads((root / "transform.json").read_text())
        target = request.transform_output.s3_output_path
        content_type = request.transform_output.accept or "binary/octet-stream"
        uploaded: list[str] = []
        for item in plan["files"]:
            uri = staging.join_uri(target, item["name"])
            try:
                staging.upload_file(self.lake, ctx, Path(item["output"]), uri, content_type)
            except (LakeworksError, OSError) as exc:
                text = exc.message if isinstance(exc, LakeworksError) else str(exc)
                return uploaded, f"ClientError: Uploading {uri} failed: {text}"
            uploaded.append(uri)
        return uploaded, None
