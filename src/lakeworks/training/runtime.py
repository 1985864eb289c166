"""The training job kind: what happens to a training job between its submit and its end.

Registered with the jobs service for ``job_type`` ``training`` (see :mod:`lakeworks.jobs.kinds`):

* :meth:`TrainingRuntime.prepare` (job Downloading) writes SageMaker's ``inputdataconfig.json``,
  restores checkpoints, stages every channel while recording its objects' ETags, stages the
  sources and builds the ``requirements.txt`` environment of a script, and picks the command:
  ``python -m lakeworks.training.entrypoint <image>`` for a built-in algorithm, the user's
  script with ``--name value`` arguments in script mode. Notes for the user (a GPU type on a
  CPU-only machine, Pipe input staged as files) go into the job's log through the launcher in
  :mod:`lakeworks.training.script_mode`.
* :meth:`TrainingRuntime.ingest` turns new log lines into timestamped events and metric points
  (called by the service's monitor thread while the job runs, and once more at the end).
* :meth:`TrainingRuntime.finish` (process ended) ingests the rest of the log, records the
  final metrics, uploads checkpoints a last time and records the artifact's ETag.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.db import Database
from lakeworks.jobs import staging
from lakeworks.jobs.kinds import Launch
from lakeworks.jobs.layout import JobPaths, training_environment
from lakeworks.jobs.service import JobService
from lakeworks.lake.service import LakeService
from lakeworks.schemas.jobs import JobCreate
from lakeworks.schemas.training import ObjectLineage, TrainingJobCreate
from lakeworks.training import store
from lakeworks.training.channels import (
    CheckpointSync,
    checkpoint_dir,
    input_data_config,
    restore_checkpoints,
    stage_channel,
)
from lakeworks.training.environments import EnvironmentCache
from lakeworks.training.instances import detect_gpus, parse_instance_type
from lakeworks.training.script_mode import script_environment, split_hyperparameters
from lakeworks.training.tracking import MetricMatcher, merge_final_metrics, split_lines, stream_name

__all__ = ["BUILTIN_ENTRY_POINT", "TrainingRuntime"]

log = logging.getLogger("lakeworks.training")

#: The entry point recorded on the job of a built-in algorithm.
BUILTIN_ENTRY_POINT = "lakeworks.training.entrypoint"
_INGEST_CHUNK = 1024 * 1024
#: Most events kept per job (metrics are still read from every line past it).
MAX_EVENTS = 500_000
_METRICS_FILE = "metrics.json"
_NOTES_DIR = ".lakeworks"


def _read_small_file(path: Path, limit: int = 1024 * 1024) -> str | None:
    """Read a file the job wrote: never through a link, only a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return file.read(limit).decode("utf-8", "replace")


def _reported_metrics(paths: JobPaths) -> dict[str, float]:
    """``output/metrics.json`` of a built-in algorithm (the authority on its final metrics)."""
    text = _read_small_file(paths.output_dir / _METRICS_FILE)
    if text is None:
        return {}
    try:
        items = json.loads(text).get("FinalMetricDataList", [])
        return {str(i["MetricName"]): float(i["Value"]) for i in items}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


class TrainingRuntime:
    """Prepares, watches and finishes training jobs (the ``training`` job kind).

    Args:
        db: The metadata database (training tables).
        lake: Inputs, checkpoints and artifacts.
        jobs: The jobs service (logs, job directories, state).
        environments: The requirements-environment cache.
        clock: Current UTC time.
    """

    def __init__(
        self,
        db: Database,
        lake: LakeService,
        jobs: JobService,
        environments: EnvironmentCache,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.lake = lake
        self.jobs = jobs
        self.environments = environments
        self.clock = clock
        self._matchers: dict[str, MetricMatcher] = {}
        self._checkpoints: dict[str, CheckpointSync] = {}
        self._lock = threading.Lock()

    def _row(self, name: str) -> store.TrainingJobRecord | None:
        with self.db.session() as session:
            return store.get_training(session, name)

    # -- JobKind ------------------------------------------------------------------------------

    def check(self, spec: JobCreate) -> None:
        """Only the training service creates training jobs (it records them first)."""
        if self._row(spec.job_name) is None:
            raise ValidationError(
                "Jobs of type 'training' are created with CreateTrainingJob or "
                "POST /api/v1/training-jobs",
                details={"field": "job_type"},
            )

    def prepare(self, ctx: RequestContext, name: str, spec: JobCreate, paths: JobPaths) -> Launch:
        """Stage everything and choose the command (see the module docstring).

        Raises:
            LakeworksError: What could not be staged or installed, naming it.
        """
        row = self._row(name)
        if row is None:
            raise ValidationError(f"Training job {name!r} has no training record")
        request = TrainingJobCreate.model_validate(row.request)
        notes: list[str] = []
        show: list[str] = []
        instance_type = request.resource_config.instance_type or "ml.m5.large"
        wanted = parse_instance_type(instance_type)
        here = detect_gpus()
        num_gpus = min(wanted.gpus, here)
        num_cpus = max(1, min(wanted.vcpus, os.cpu_count() or 1))
        if wanted.gpus and not here:
            notes.append(
                f"{instance_type} has {wanted.gpus} GPU(s) but this machine has none: "
                "training on the CPU"
            )
        mode = request.algorithm_specification.training_input_mode
        config = input_data_config(request.input_data_config, mode)
        for channel, entry in config.items():
            if entry["TrainingInputMode"] != "File":
                notes.append(
                    f"channel {channel!r} asks for {entry['TrainingInputMode']} input mode; "
                    f"Lakeworks stages it as files in input/data/{channel}/"
                )
        (paths.config_dir / "inputdataconfig.json").write_text(json.dumps(config, indent=2))
        tmp = paths.root / "tmp"
        tmp.mkdir(exist_ok=True)
        env: dict[str, str] = {
            "SM_NUM_GPUS": str(num_gpus),
            "SM_NUM_CPUS": str(num_cpus),
            "SM_INPUT_DATA_CONFIG": json.dumps(config),
            "CUDA_VISIBLE_DEVICES": ",".join(str(i) for i in range(num_gpus)),
            "TMPDIR": str(tmp),
        }
        if request.checkpoint_config is not None:
            local = checkpoint_dir(paths, request.checkpoint_config.local_path)
            restored = restore_checkpoints(self.lake, ctx, request.checkpoint_config.s3_uri, local)
            if restored:
                notes.append(f"restored {restored} checkpoint file(s) into {local.name}/")
            env["LAKEWORKS_CHECKPOINT_DIR"] = str(local)
        inputs = [
            stage_channel(self.lake, ctx, channel, paths).model_dump(mode="json")
            for channel in request.input_data_config
        ]
        store.update_training(self.db, name, inputs=inputs)
        python = sys.executable
        if row.mode == "script":
            hps = split_hyperparameters(request.hyperparameters)
            if hps is None or hps.submit_directory is None:  # checked on create
                raise ValidationError("sagemaker_submit_directory is missing")
            staging.stage_code(self.lake, ctx, hps.submit_directory, paths, hps.program)
            requirements = paths.code_dir / "requirements.txt"
            if requirements.is_file() and not requirements.is_symlink():
                environment = self.environments.ensure(requirements, paths.code_dir)
                python = str(environment.python)
                shown = paths.root / _NOTES_DIR / "requirements.log"
                shown.parent.mkdir(exist_ok=True)
                verb = "installed" if environment.created else "reused the cached"
                shown.write_text(
                    f"[lakeworks] {verb} environment {environment.key} for requirements.txt\n"
                    + (environment.log if environment.created else "")
                )
                show.append(str(shown))
            base = training_environment(name, spec, paths, num_cpus=num_cpus)
            env.update(script_environment(base, hps, num_gpus=num_gpus, num_cpus=num_cpus))
            argv = [python, hps.program, *json.loads(env["SM_USER_ARGS"])]
            cwd = paths.code_dir
        else:
            image = (
                request.algorithm_specification.training_image
                or request.algorithm_specification.algorithm_name
                or ""
            )
            argv = [python, "-m", BUILTIN_ENTRY_POINT, image]
            cwd = paths.root
        if notes or show:
            launcher = [sys.executable, "-m", "lakeworks.training.script_mode"]
            for note in notes:
                launcher += ["--note", note]
            for path in show:
                launcher += ["--show", path]
            argv = [*launcher, "--", *argv]
        return Launch(argv=argv, cwd=cwd, env=env)

    def finish(self, name: str, spec: JobCreate, paths: JobPaths, outcome: str) -> None:
        """Ingest the rest of the log, record final metrics, checkpoints and the artifact."""
        row = self._row(name)
        if row is None:
            return
        self.ingest(name, final=True)
        now = self.clock()
        last: dict[str, float] = {}
        with self.db.session() as session:
            for point in store.metric_points(session, name):
                last[point.metric_name] = point.value
        reported = _reported_metrics(paths) if row.mode == "builtin" else {}
        final = merge_final_metrics(last, reported)
        values: dict[str, Any] = {
            "final_metrics": [
                {"MetricName": k, "Value": v, "Timestamp": now.isoformat()}
                for k, v in sorted(final.items())
            ],
            "finished": True,
        }
        request = TrainingJobCreate.model_validate(row.request)
        ctx = self._owner_context(name) or RequestContext.system()
        if request.checkpoint_config is not None:
            try:
                self.sync_checkpoints(name, request, paths, ctx)
            except (LakeworksError, OSError) as exc:
                log.warning("job %s: uploading checkpoints failed: %s", name, exc)
        if outcome == "Completed":
            uri = staging.join_uri(
                request.output_data_config.s3_output_path, name, "output", "model.tar.gz"
            )
            bucket, key = staging.split_uri(uri)
            try:
                info = self.lake.head_object(ctx, bucket, key)
                values["model_artifact"] = ObjectLineage(
                    uri=uri, etag=info.etag, size=info.size
                ).model_dump(mode="json")
            except LakeworksError:
                pass
        store.update_training(self.db, name, **values)
        with self._lock:
            self._matchers.pop(name, None)
            self._checkpoints.pop(name, None)

    # -- while it runs ------------------------------------------------------------------------

    def _owner_context(self, name: str) -> RequestContext | None:
        owner = self.jobs.job_owner(name)
        if owner is None:
            return None
        principal, scopes = owner
        return RequestContext(principal=principal, scopes=frozenset(scopes))

    def _matcher(self, name: str, definitions: list[Any]) -> MetricMatcher:
        with self._lock:
            matcher = self._matchers.get(name)
            if matcher is None:
                matcher = self._matchers[name] = MetricMatcher(definitions)
            return matcher

    def ingest(self, name: str, *, final: bool = False) -> int:
        """Turn new complete log lines of job ``name`` into events and metric points.

        Args:
            name: The training job.
            final: The job's process has ended: a last line without a newline counts too.

        Returns:
            How many events were recorded.
        """
        recorded = 0
        for _ in range(1000):
            row = self._row(name)
            if row is None or row.finished:
                return recorded
            try:
                chunk, _ended = self.jobs.read_log_chunk(name, row.log_offset, _INGEST_CHUNK)
            except NotFound:
                return recorded
            at_end = chunk.next_offset >= chunk.size
            lines, consumed = split_lines(chunk.data, final=final and at_end)
            if consumed == 0:
                return recorded
            now = self.clock()
            millis = int(now.timestamp() * 1000)
            matcher = self._matcher(name, row.metric_definitions)
            room = MAX_EVENTS - row.log_events
            events = [store.NewEvent(millis, line) for line in lines[: max(0, room)]]
            if 0 <= room < len(lines):
                # Keep the database bounded; the whole log is still in the job directory and,
                # with an output path, archived at <output>/<job>/logs/output.log.
                events.append(
                    store.NewEvent(
                        millis, f"[lakeworks] log truncated after {MAX_EVENTS} events here"
                    )
                )
            points = [
                store.NewPoint(metric, value, now)
                for line in lines
                for metric, value in matcher.match(line)
            ]
            stream = row.log_stream or stream_name(name, self.jobs.job_start_time(name) or now)
            if store.ingest(
                self.db,
                name,
                seen_offset=row.log_offset,
                new_offset=row.log_offset + consumed,
                stream=stream,
                events=events,
                points=points,
                ingestion_time=millis,
            ):
                recorded += len(events)
            if at_end and not chunk.data[consumed:]:
                return recorded
        return recorded

    def sync_checkpoints(
        self, name: str, request: TrainingJobCreate, paths: JobPaths, ctx: RequestContext
    ) -> int:
        """Upload new or changed checkpoint files of job ``name``; return how many."""
        config = request.checkpoint_config
        if config is None:
            return 0
        with self._lock:
            sync = self._checkpoints.get(name)
            if sync is None:
                sync = self._checkpoints[name] = CheckpointSync(
                    config.s3_uri, checkpoint_dir(paths, config.local_path)
                )
        return sync.sync(self.lake, ctx)

    def watch(self, name: str, *, checkpoints: bool) -> None:
        """One monitor pass over a running job: ingest its log, maybe sync checkpoints."""
        self.ingest(name)
        if not checkpoints:
            return
        row = self._row(name)
        if row is None:
            return
        request = TrainingJobCreate.model_validate(row.request)
        ctx = self._owner_context(name)
        if request.checkpoint_config is not None and ctx is not None:
            self.sync_checkpoints(name, request, self.jobs.job_paths(name), ctx)
