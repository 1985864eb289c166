"""The ``etl`` job kind: stage a Glue Python-shell script and its modules, choose the command.

:meth:`EtlKind.prepare` (job Downloading) downloads the script from its ``ScriptLocation``,
installs ``--additional-python-modules`` (names from the package index, or ``s3://`` wheels in
the lake) into a cached directory keyed by the module list, and runs
``python script.py --JOB_NAME <job> --JOB_RUN_ID <run> --<arg> <value> …`` with Lakeworks'
``awsglue`` package and the modules on ``PYTHONPATH``. A module that cannot be installed fails
the run with a message naming it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, ValidationError
from lakeworks.db import Database
from lakeworks.etl import store
from lakeworks.jobs.kinds import Launch
from lakeworks.jobs.layout import JobPaths
from lakeworks.lake.service import LakeService
from lakeworks.schemas.etl import EtlJobCreate
from lakeworks.schemas.jobs import JobCreate

__all__ = ["SHIM_DIR", "EtlKind", "glue_argv"]

#: Holds Lakeworks' ``awsglue`` package; put on every ETL job's PYTHONPATH.
SHIM_DIR = Path(__file__).resolve().parent / "shim"
_PIP_TIMEOUT = 600
#: Arguments Glue itself interprets; never passed to pip or hidden from the script.
MODULES_ARG = "--additional-python-modules"


def glue_argv(job: str, run_id: str, arguments: dict[str, str]) -> list[str]:
    """The script's arguments, as Glue passes them: ``--JOB_NAME``, ``--JOB_RUN_ID``, then
    each ``--name value``."""
    argv = ["--JOB_NAME", job, "--JOB_RUN_ID", run_id]
    for name, value in arguments.items():
        argv += [name if name.startswith("--") else f"--{name}", value]
    return argv


class EtlKind:
    """Prepares the jobs of ETL runs (the ``etl`` job kind).

    Args:
        db: The metadata database (ETL tables).
        lake: Where scripts and wheels are read from.
        cache: Directory of installed module sets.
    """

    def __init__(self, db: Database, lake: LakeService, cache: Path) -> None:
        self.db = db
        self.lake = lake
        self.cache = cache

    def _run(self, job_name: str) -> tuple[store.EtlRunRecord, EtlJobCreate] | None:
        with self.db.session() as session:
            run = session.scalars(
                select(store.EtlRunRecord).where(store.EtlRunRecord.job_name == job_name)
            ).first()
            if run is None:
                return None
            job = session.get(store.EtlJobRecord, run.etl_job)
            if job is None:
                return None
            return run, EtlJobCreate.model_validate(job.definition)

    def check(self, spec: JobCreate) -> None:
        """Only the ETL service creates ETL jobs (it records the run first)."""
        if self._run(spec.job_name) is None:
            raise ValidationError(
                "Jobs of type 'etl' are started with Glue StartJobRun",
                details={"field": "job_type"},
            )

    def prepare(self, ctx: RequestContext, name: str, spec: JobCreate, paths: JobPaths) -> Launch:
        """Download the script, install the modules, return the command.

        Raises:
            LakeworksError: The script or a module could not be had (the run fails with it).
        """
        found = self._run(name)
        if found is None:
            raise ValidationError(f"Job {name!r} has no ETL run")
        run, job = found
        code = paths.code_dir
        code.mkdir(parents=True, exist_ok=True)
        location = job.command.script_location
        script = code / (PurePosixPath(location).name or "script.py")
        try:
            self.lake.download(ctx, location, script)
        except LakeworksError as exc:
            raise type(exc)(
                f"Downloading the script {location} failed: {exc.message}", aws_code=exc.aws_code
            ) from None
        arguments = {k: str(v) for k, v in run.arguments.items()}
        python_path = [str(SHIM_DIR)]
        modules = arguments.get(MODULES_ARG, "")
        if modules.strip():
            python_path.insert(0, str(self._install(ctx, modules)))
        tmp = paths.root / "tmp"
        tmp.mkdir(exist_ok=True)
        env = {"PYTHONPATH": os.pathsep.join(python_path), "TMPDIR": str(tmp)}
        argv = [sys.executable, str(script), *glue_argv(run.etl_job, run.run_id, arguments)]
        return Launch(argv=argv, cwd=code, env=env)

    def _install(self, ctx: RequestContext, modules: str) -> Path:
        """Install a comma-separated module list (cached by the list's digest)."""
        names = [m.strip() for m in modules.split(",") if m.strip()]
        digest = hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:24]
        target = self.cache / digest
        if target.is_dir():
            return target
        self.cache.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".install-", dir=self.cache))
        try:
            for module in names:
                self._install_one(ctx, module, scratch)
            try:
                scratch.rename(target)
            except OSError:  # another run installed the same set meanwhile
                shutil.rmtree(scratch, ignore_errors=True)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return target

    def _install_one(self, ctx: RequestContext, module: str, target: Path) -> None:
        requirement = module
        with tempfile.TemporaryDirectory() as wheels:
            if module.startswith("s3://"):
                local = Path(wheels) / (PurePosixPath(module).name or "module.whl")
                try:
                    self.lake.download(ctx, module, local)
                except LakeworksError as exc:
                    raise ValidationError(
                        f"Installing additional python module {module!r} failed: {exc.message}"
                    ) from None
                requirement = str(local)
            elif module.startswith("-"):
                raise ValidationError(
                    f"Additional python module {module!r} is not a requirement; pip options "
                    "are not accepted"
                )
            argv = [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "--target",
                str(target),
                requirement,
            ]
            try:
                done = subprocess.run(argv, capture_output=True, timeout=_PIP_TIMEOUT, check=False)
            except subprocess.TimeoutExpired:
                raise ValidationError(
                    f"Installing additional python module {module!r} timed out"
                ) from None
            if done.returncode != 0:
                tail = done.stderr.decode("utf-8", "replace").strip()[-600:]
                raise ValidationError(
                    f"Installing additional python module {module!r} failed: {tail}"
                )

    def finish(self, name: str, spec: JobCreate, paths: JobPaths, outcome: str) -> None:
        """Nothing to do: the ETL service reads the outcome from the job row."""
