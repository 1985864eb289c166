"""A SageMaker processing container's paths, mapped onto a job directory (pure functions).

SageMaker runs a processing script in a container where ``/opt/ml/processing/...`` holds the
inputs and outputs (``LocalPath``). Lakeworks runs it as a local process, so ``/opt/ml/`` becomes
the job's own directory::

    /opt/ml/processing/input/code/x.py   →  <home>/jobs/<job>/processing/input/code/x.py
    /opt/ml/processing/output/train      →  <home>/jobs/<job>/processing/output/train
    /opt/ml/config/processingjobconfig.json → <home>/jobs/<job>/config/processingjobconfig.json
    /opt/ml/output/message, .../failure  →  <home>/jobs/<job>/output/message, .../failure

Every ``LocalPath`` must lie under ``/opt/ml/processing/`` (as on SageMaker). The entry point and
arguments are rewritten with the same mapping wherever they start with ``/opt/ml/`` (also after
``=`` in ``--opt=/opt/ml/...``), so the SageMaker SDK's
``["python3", "/opt/ml/processing/input/code/script.py"]`` runs the staged script.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.processing import AppSpecification

__all__ = [
    "CONTAINER_ROOT",
    "PROCESSING_ROOT",
    "check_local_path",
    "host_path",
    "plan_command",
    "translate",
]

CONTAINER_ROOT = "/opt/ml"
PROCESSING_ROOT = "/opt/ml/processing"
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_PREFIX = re.compile(r"(^|[=,:])/opt/ml(?=/|$)")


def check_local_path(path: str, field: str) -> str:
    """Check a ``LocalPath``: absolute, normalized, under ``/opt/ml/processing/``.

    Returns:
        The path without a trailing slash.

    Raises:
        ValidationError: Naming the field and the rule.
    """
    parts = path.split("/")
    pure = PurePosixPath(path)
    if (
        not path.startswith(PROCESSING_ROOT + "/")
        or any(p in (".", "..") for p in parts)
        or "\\" in path
        or pure == PurePosixPath(PROCESSING_ROOT)
    ):
        raise ValidationError(
            f"{field} {path!r} must be a path under {PROCESSING_ROOT}/ without '.' or '..' "
            f"segments, e.g. {PROCESSING_ROOT}/input/data",
            details={"field": field},
        )
    return str(pure)


def host_path(root: Path, container_path: str) -> Path:
    """Where ``container_path`` (under ``/opt/ml``) lives inside the job directory ``root``.

    Raises:
        ValidationError: The path is not under ``/opt/ml`` or leaves it.
    """
    pure = PurePosixPath(container_path)
    try:
        relative = pure.relative_to(CONTAINER_ROOT)
    except ValueError:
        raise ValidationError(f"{container_path!r} is not under {CONTAINER_ROOT}") from None
    if any(p == ".." for p in relative.parts):
        raise ValidationError(f"{container_path!r} leaves {CONTAINER_ROOT}")
    return root.joinpath(*relative.parts)


def translate(argument: str, root: Path) -> str:
    """Rewrite ``/opt/ml`` at the start of ``argument`` (or after ``=``, ``,``, ``:``)."""
    return _PREFIX.sub(lambda m: m.group(1) + str(root), argument)


def plan_command(app: AppSpecification, python: str, root: Path) -> list[str]:
    """The command of a processing job: its entry point with Python replaced by ``python``.

    Args:
        app: The job's AppSpecification.
        python: The interpreter that runs scripts (the image's Python).
        root: The job directory standing in for ``/opt/ml``.

    Raises:
        ValidationError: No entry point, or one that is not a Python interpreter or script.
    """
    entry = list(app.container_entrypoint or [])
    if not entry:
        raise ValidationError(
            "AppSpecification.ContainerEntrypoint is required: Lakeworks runs Python scripts, "
            "e.g. ['python3', '/opt/ml/processing/input/code/preprocessing.py']",
            details={"field": "AppSpecification.ContainerEntrypoint"},
        )
    head = PurePosixPath(entry[0]).name
    if _PYTHON.match(head):
        rest = entry[1:]
    elif head.endswith(".py"):
        rest = entry
    else:
        raise ValidationError(
            f"AppSpecification.ContainerEntrypoint must start with a Python interpreter "
            f"(python, python3, /usr/bin/python3 …) or a .py script; got {entry[0]!r}",
            details={"field": "AppSpecification.ContainerEntrypoint"},
        )
    arguments = list(app.container_arguments or [])
    return [python, *(translate(a, root) for a in [*rest, *arguments])]
