"""Staging a model's artifacts for its model servers: download, checked extraction, pickle check.

For each container of a model the server downloads ``ModelDataUrl`` (a ``model.tar.gz``) from the
lake, extracts it member by member with :func:`lakeworks.jobs.archives.safe_extract` (no absolute
paths, ``..``, links or devices; size and count limits; nothing written on refusal), stages the
script-mode code (``SAGEMAKER_SUBMIT_DIRECTORY``, or ``code/`` inside the archive) and refuses
pickled files unless the model is trusted (see :mod:`lakeworks.hosting.models`). The result is a
:class:`~lakeworks.hosting.worker_spec.ContainerPlan` per container, pointing at local
directories only: the model server never touches the lake.

Multi-model containers stage each target model on first use instead
(:class:`MultiModelStager`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.hosting.models import (
    TRUSTED_ENV,
    TRUSTED_TAG,
    containers_of,
    hostnames_of,
    is_trusted,
    resolve_container,
)
from lakeworks.hosting.multi_model import check_target_model, staged_name
from lakeworks.hosting.worker_spec import ContainerPlan
from lakeworks.jobs.archives import safe_extract
from lakeworks.schemas.hosting import ModelCreate

__all__ = [
    "PICKLE_SUFFIXES",
    "ArtifactSource",
    "MultiModelStager",
    "UnsafeArtifact",
    "find_pickles",
    "prepare_model",
]

#: File names that hold pickles (joblib, PyTorch's zip of data.pkl, dill …).
PICKLE_SUFFIXES = frozenset(
    {".pkl", ".pickle", ".joblib", ".jbl", ".sav", ".dill", ".pt", ".pth", ".bin", ".p"}
)
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")


class UnsafeArtifact(ValidationError):
    """An artifact holds pickled files and the model is not marked trusted."""


class ArtifactSource(Protocol):
    """Where artifacts come from: the lake's ``download`` (``LakeService`` satisfies it)."""

    def download(self, ctx: RequestContext, s3_uri: str, dest: Path) -> int:
        """Copy an object (or every object under a prefix) to ``dest``."""
        ...


def _is_pickle_bytes(head: bytes) -> bool:
    # Protocol 2+ pickles start with PROTO (0x80) and the protocol number.
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _walk_files(root: Path) -> Iterator[Path]:
    for directory, _dirs, files in os.walk(root):
        for name in files:
            yield Path(directory) / name


def find_pickles(root: Path) -> list[str]:
    """Relative paths of files under ``root`` that are (or contain) pickles, sorted.

    A file is a pickle by name (:data:`PICKLE_SUFFIXES`), by its first bytes (protocol 2-5), or
    as a zip archive holding ``.pkl`` members (PyTorch's format).
    """
    found: list[str] = []
    for path in _walk_files(root):
        relative = str(path.relative_to(root))
        if path.suffix.lower() in PICKLE_SUFFIXES:
            found.append(relative)
            continue
        try:
            with path.open("rb") as file:
                head = file.read(4)
        except OSError:
            continue
        if _is_pickle_bytes(head):
            found.append(relative)
        elif head == b"PK\x03\x04" and path.suffix.lower() != ".npz":
            try:
                with zipfile.ZipFile(path) as archive:
                    if any(n.endswith((".pkl", ".pickle")) for n in archive.namelist()):
                        found.append(relative)
            except (zipfile.BadZipFile, OSError):
                continue
    return sorted(found)


def _refuse_pickles(root: Path, what: str) -> None:
    pickles = find_pickles(root) if root.is_dir() else []
    if pickles:
        shown = ", ".join(pickles[:5]) + (" …" if len(pickles) > 5 else "")
        raise UnsafeArtifact(
            f"The {what} holds pickled files ({shown}); Lakeworks does not load pickles from "
            "untrusted models because unpickling runs code. Save the model in a native format "
            f"(XGBoost JSON/UBJSON, numpy .npy/.npz, JSON), or, if you trust its files, mark the "
            f"model trusted: Environment {TRUSTED_ENV}=true or the tag {TRUSTED_TAG}=true"
        )


def _extract_object(
    lake: ArtifactSource, ctx: RequestContext, uri: str, dest: Path, what: str
) -> None:
    """Download the archive at ``uri`` and extract it (checked) into ``dest``."""
    archive = dest.with_name(f".{dest.name}.download")
    try:
        lake.download(ctx, uri, archive)
    except NotFound:
        raise ValidationError(
            f"Could not find {what} at {uri}: upload it to the lake or fix the URI"
        ) from None
    try:
        if not archive.is_file():
            raise ValidationError(f"The {what} at {uri} is a prefix, not a tar.gz object")
        safe_extract(archive, dest)
    finally:
        if archive.is_dir():
            shutil.rmtree(archive, ignore_errors=True)
        else:
            archive.unlink(missing_ok=True)


def _stage_code(
    lake: ArtifactSource, ctx: RequestContext, submit: str | None, model_dir: Path, dest: Path
) -> Path:
    """The directory holding the inference script."""
    if submit and submit.startswith("s3://"):
        if submit.endswith(_TAR_SUFFIXES):
            _extract_object(lake, ctx, submit, dest, "SAGEMAKER_SUBMIT_DIRECTORY archive")
        else:
            try:
                lake.download(ctx, submit, dest / "_")
            except NotFound:
                raise ValidationError(
                    f"Could not find the SAGEMAKER_SUBMIT_DIRECTORY code at {submit}"
                ) from None
            staged = dest / "_"
            if staged.is_file():  # a single .py object
                dest.mkdir(parents=True, exist_ok=True)
                staged.rename(dest / submit.rsplit("/", 1)[-1])
            else:
                for child in staged.iterdir():
                    child.rename(dest / child.name)
                staged.rmdir()
        return dest
    if submit:  # under /opt/ml/model (checked on CreateModel): inside the extracted archive
        relative = Path(submit).relative_to("/opt/ml/model")
        target = (model_dir / relative).resolve()
        if not target.is_relative_to(model_dir.resolve()):
            raise ValidationError(f"SAGEMAKER_SUBMIT_DIRECTORY {submit!r} leaves the model")
        return target
    return model_dir / "code" if (model_dir / "code").is_dir() else model_dir


def prepare_model(
    lake: ArtifactSource, ctx: RequestContext, spec: ModelCreate, root: Path
) -> list[ContainerPlan]:
    """Stage every container of ``spec`` under ``root`` and plan how each is served.

    Args:
        lake: Where the artifacts are.
        ctx: Who reads them (the endpoint's creator).
        spec: The model.
        root: A fresh directory for this model's files.

    Returns:
        One plan per container, in order.

    Raises:
        ValidationError: Missing artifact, an unsafe archive (``UnsafeArchive``), pickles in an
            untrusted model (:class:`UnsafeArtifact`), or a script-mode model without its script.
    """
    plans: list[ContainerPlan] = []
    for index, (hostname, container) in enumerate(
        zip(hostnames_of(spec), containers_of(spec), strict=True)
    ):
        runtime = resolve_container(container)
        home = root / f"container-{index}"
        model_dir = home / ("models" if container.mode == "MultiModel" else "model")
        if container.mode == "MultiModel" or not container.model_data_url:
            model_dir.mkdir(parents=True, exist_ok=True)
        else:
            home.mkdir(parents=True, exist_ok=True)
            _extract_object(lake, ctx, container.model_data_url, model_dir, "model data")
        code_dir: Path | None = None
        if runtime.kind == "script":
            code_dir = _stage_code(lake, ctx, runtime.submit_directory, model_dir, home / "code")
            assert runtime.program is not None
            if container.mode != "MultiModel" and not (code_dir / runtime.program).is_file():
                raise ValidationError(
                    f"Container {hostname}: the inference script {runtime.program!r} is not in "
                    "the model's code; put it in model.tar.gz under code/ or point "
                    "SAGEMAKER_SUBMIT_DIRECTORY at it"
                )
        if not is_trusted(spec, container):
            _refuse_pickles(model_dir, f"model data of container {hostname}")
            if code_dir is not None and code_dir != model_dir:
                _refuse_pickles(code_dir, f"code of container {hostname}")
        plans.append(
            ContainerPlan(
                hostname=hostname,
                kind=runtime.kind,
                image=container.image or "",
                model_dir=str(model_dir),
                code_dir=str(code_dir) if code_dir else None,
                program=runtime.program,
                environment=dict(container.environment),
                multi_model=container.mode == "MultiModel",
                algorithm=runtime.algorithm,
            )
        )
    return plans


class MultiModelStager:
    """Stages the target models of one multi-model container, each once, off the event loop.

    Args:
        lake: Where the models are.
        ctx: Who reads them.
        prefix: The container's ``ModelDataUrl`` prefix.
        root: The container's models directory (the model server loads from here).
        trusted: Whether pickles may be staged.
    """

    def __init__(
        self, lake: ArtifactSource, ctx: RequestContext, prefix: str, root: Path, trusted: bool
    ) -> None:
        self.lake = lake
        self.ctx = ctx
        self.prefix = prefix.rstrip("/")
        self.root = root
        self.trusted = trusted
        self._locks: dict[str, asyncio.Lock] = {}

    def _stage(self, target: str, name: str) -> None:
        dest = self.root / name
        uri = f"{self.prefix}/{target}"
        try:
            _extract_object(self.lake, self.ctx, uri, dest, "model")
        except LakeworksError as exc:
            bucket, _, key = uri.removeprefix("s3://").partition("/")
            if "Could not find" in exc.message:
                raise ValidationError(
                    f"Failed to download model data (bucket: {bucket}, key: {key}). Please "
                    "ensure that there is an object located at the URL.",
                    aws_code="ValidationError",
                ) from None
            raise ValidationError(exc.message, aws_code="ValidationError") from None
        if not self.trusted:
            try:
                _refuse_pickles(dest, f"model {target!r}")
            except UnsafeArtifact as exc:
                shutil.rmtree(dest, ignore_errors=True)
                raise ValidationError(exc.message, aws_code="ValidationError") from None

    async def stage(self, target: str) -> str:
        """Stage ``target`` (once) and return its directory name under :attr:`root`.

        Raises:
            ValidationError: Invalid name, missing object, unsafe archive or pickles.
        """
        name = staged_name(check_target_model(target))
        if (self.root / name).is_dir():
            return name
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            if not (self.root / name).is_dir():
                await asyncio.to_thread(self._stage, target, name)
        return name
