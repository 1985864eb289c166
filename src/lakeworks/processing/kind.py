"""The processing job kind: staging a processing job's inputs and uploading its outputs.

Registered with the jobs service for ``job_type`` ``processing`` (see
:mod:`lakeworks.jobs.kinds`):

* :meth:`ProcessingRuntime.prepare` (job Downloading) writes ``/opt/ml/config/
  processingjobconfig.json`` and ``resourceconfig.json`` as SageMaker does, stages every S3
  input (a prefix, an object or a manifest's objects) into its mapped ``LocalPath``, creates
  the output folders, writes a built-in runner's config, and picks the command (see
  :mod:`lakeworks.processing.container`).
* :meth:`ProcessingRuntime.finish` (process ended) records the ``ExitMessage`` the job wrote to
  ``/opt/ml/output/message`` and, for a completed job, uploads every output folder. An upload
  that fails makes the processing job Failed with the reason (the job row itself is settled by
  the executor, which a kind cannot overrule).
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import stat
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.db import Database
from lakeworks.jobs import staging
from lakeworks.jobs.kinds import Launch
from lakeworks.jobs.layout import JobPaths
from lakeworks.jobs.service import JobService
from lakeworks.lake.service import LakeService
from lakeworks.processing import store
from lakeworks.processing.container import host_path, plan_command
from lakeworks.schemas.jobs import JobCreate
from lakeworks.schemas.processing import ProcessingJobCreate, ProcessingS3Input

__all__ = ["BUILTIN_CONFIG", "ProcessingRuntime"]

log = logging.getLogger("lakeworks.processing")

#: Where a built-in runner finds its config, as the job sees it.
BUILTIN_CONFIG = "/opt/ml/config/lakeworks-builtin.json"
_MAX_MESSAGE = 1024
_MAX_MANIFEST = 16 * 1024 * 1024


def _read_small_file(path: Path, limit: int) -> str | None:
    """Read a file the job wrote: never through a link, only a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return file.read(limit).decode("utf-8", "replace")


def _regular_files(root: Path) -> list[Path]:
    """Regular files under ``root``, never through a symbolic link, sorted."""
    found: list[Path] = []
    if root.is_symlink() or not root.is_dir():
        return found
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(directory) / name
            if stat.S_ISREG(path.lstat().st_mode):
                found.append(path)
    return found


class ProcessingRuntime:
    """Prepares and finishes processing jobs (the ``processing`` job kind).

    Args:
        db: The metadata database (processing tables).
        lake: Inputs and outputs.
        jobs: The jobs service (job owners).
    """

    def __init__(self, db: Database, lake: LakeService, jobs: JobService) -> None:
        self.db = db
        self.lake = lake
        self.jobs = jobs

    def _row(self, name: str) -> store.ProcessingJobRecord | None:
        with self.db.session() as session:
            return store.get_processing(session, name)

    # -- JobKind ------------------------------------------------------------------------------

    def check(self, spec: JobCreate) -> None:
        """Only the processing service creates processing jobs (it records them first)."""
        if self._row(spec.job_name) is None:
            raise ValidationError(
                "Jobs of type 'processing' are created with CreateProcessingJob or "
                "POST /api/v1/processing-jobs",
                details={"field": "job_type"},
            )

    def prepare(self, ctx: RequestContext, name: str, spec: JobCreate, paths: JobPaths) -> Launch:
        """Stage the inputs, lay out the outputs and choose the command.

        Raises:
            LakeworksError: What could not be staged, naming the input.
        """
        row = self._row(name)
        if row is None:
            raise ValidationError(f"Processing job {name!r} has no processing record")
        request = ProcessingJobCreate.model_validate(row.request)
        root = paths.root
        config_dir = root / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "processingjobconfig.json").write_text(
            json.dumps(request.model_dump(mode="json", by_alias=True, exclude_none=True), indent=2)
        )
        (config_dir / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}, indent=2)
        )
        if row.builtin_config is not None:
            host_path(root, BUILTIN_CONFIG).write_text(json.dumps(row.builtin_config))
        for item in request.processing_inputs:
            if item.s3_input is None or item.s3_input.local_path is None:  # checked on create
                raise ValidationError(f"Input {item.input_name!r} has no S3Input.LocalPath")
            dest = host_path(root, item.s3_input.local_path)
            dest.mkdir(parents=True, exist_ok=True)
            try:
                self._stage(ctx, item.s3_input, dest)
            except LakeworksError as exc:
                raise type(exc)(
                    f"Downloading input {item.input_name!r} from {item.s3_input.s3_uri} failed: "
                    f"{exc.message}",
                    aws_code=exc.aws_code,
                ) from None
        config = request.processing_output_config
        for output in config.outputs if config else []:
            if output.s3_output is not None and output.s3_output.local_path is not None:
                host_path(root, output.s3_output.local_path).mkdir(parents=True, exist_ok=True)
        workdir = host_path(root, "/opt/ml/processing")
        workdir.mkdir(parents=True, exist_ok=True)
        tmp = root / "tmp"
        tmp.mkdir(exist_ok=True)
        env = {
            "PROCESSING_JOB_NAME": name,
            "LAKEWORKS_OPT_ML": str(root),
            "LAKEWORKS_PROCESSING_DIR": str(workdir),
            "TMPDIR": str(tmp),
        }
        argv = plan_command(request.app_specification, sys.executable, root)
        return Launch(argv=argv, cwd=workdir, env=env)

    def _stage(self, ctx: RequestContext, source: ProcessingS3Input, dest: Path) -> None:
        if source.s3_data_type == "ManifestFile":
            self._stage_manifest(ctx, source.s3_uri, dest)
            return
        bucket, key = staging.split_uri(source.s3_uri)
        if key and not key.endswith("/"):
            try:
                self.lake.head_object(ctx, bucket, key)
            except NotFound:
                pass
            else:
                self.lake.download(ctx, source.s3_uri, dest / PurePosixPath(key).name)
                return
        self.lake.download(ctx, source.s3_uri, dest)

    def _stage_manifest(self, ctx: RequestContext, uri: str, dest: Path) -> None:
        """A manifest: ``[{"prefix": "s3://b/p/"}, "key1", "dir/key2", …]`` (SageMaker's)."""
        scratch = dest.parent / f".{dest.name}.manifest"
        self.lake.download(ctx, uri, scratch)
        try:
            if scratch.stat().st_size > _MAX_MANIFEST:
                raise ValidationError(f"The manifest {uri} is larger than 16 MiB")
            data: Any = json.loads(scratch.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ValidationError(
                f"The manifest {uri} is not JSON: expected "
                '[{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]'
            ) from None
        finally:
            scratch.unlink(missing_ok=True)
        if (
            not isinstance(data, list)
            or not data
            or not isinstance(data[0], dict)
            or not isinstance(data[0].get("prefix"), str)
            or not all(isinstance(k, str) for k in data[1:])
        ):
            raise ValidationError(
                f"The manifest {uri} must be a list: "
                '[{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]'
            )
        prefix = data[0]["prefix"]
        root = dest.resolve()
        for relative in data[1:]:
            target = root.joinpath(*[p for p in relative.split("/") if p])
            if not target.resolve().is_relative_to(root) or ".." in relative.split("/"):
                raise ValidationError(f"Manifest key {relative!r} leaves its prefix")
            self.lake.download(ctx, prefix.rstrip("/") + "/" + relative.lstrip("/"), target)

    def finish(self, name: str, spec: JobCreate, paths: JobPaths, outcome: str) -> None:
        """Record the exit message and, for a completed job, upload the outputs."""
        row = self._row(name)
        if row is None or row.finished:
            return
        values: dict[str, Any] = {"finished": True}
        message = _read_small_file(paths.output_dir / "message", _MAX_MESSAGE)
        if message and message.strip():
            values["exit_message"] = message.strip()
        if outcome == "Completed":
            request = ProcessingJobCreate.model_validate(row.request)
            owner = self.jobs.job_owner(name)
            ctx = (
                RequestContext(principal=owner[0], scopes=frozenset(owner[1]))
                if owner
                else RequestContext.system()
            )
            outputs, failure = self._upload(ctx, request, paths.root)
            values["outputs"] = outputs
            if failure is not None:
                values["upload_failure"] = failure
        store.update_processing(self.db, name, **values)

    def _upload(
        self, ctx: RequestContext, request: ProcessingJobCreate, root: Path
    ) -> tuple[dict[str, str], str | None]:
        outputs: dict[str, str] = {}
        config = request.processing_output_config
        for output in config.outputs if config else []:
            target = output.s3_output
            if target is None or target.local_path is None:
                continue
            local = host_path(root, target.local_path)
            try:
                for path in _regular_files(local):
                    relative = path.relative_to(local).as_posix()
                    content_type = mimetypes.guess_type(path.name)[0] or "binary/octet-stream"
                    staging.upload_file(
                        self.lake,
                        ctx,
                        path,
                        staging.join_uri(target.s3_uri, relative),
                        content_type,
                    )
            except (LakeworksError, OSError) as exc:
                text = exc.message if isinstance(exc, LakeworksError) else str(exc)
                return outputs, (
                    f"ClientError: Uploading output {output.output_name!r} to {target.s3_uri} "
                    f"failed: {text}"
                )
            outputs[output.output_name] = target.s3_uri
        return outputs, None
