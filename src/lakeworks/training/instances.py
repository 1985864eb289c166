"""What a SageMaker instance type asks for (vCPUs, memory, GPUs) and what this machine has.

Lakeworks runs a job on the machine it has; the instance type sets what the job is told
(``SM_NUM_CPUS``, ``SM_NUM_GPUS``, ``SM_CURRENT_INSTANCE_TYPE``) — the request capped by the
machine — and a GPU type on a machine without a GPU trains on the CPU with a note in the log.
Nothing is enforced: a local job may use the whole machine.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lakeworks.core.errors import ValidationError

__all__ = ["InstanceRequest", "detect_gpus", "parse_instance_type"]

_TYPE = re.compile(r"^ml\.([a-z0-9\-]+)\.([a-z0-9]+)$")
_SIZES = {
    "medium": 2,
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "3xlarge": 12,
    "4xlarge": 16,
    "8xlarge": 32,
    "9xlarge": 36,
    "10xlarge": 40,
    "12xlarge": 48,
    "16xlarge": 64,
    "18xlarge": 72,
    "24xlarge": 96,
    "32xlarge": 128,
    "36xlarge": 144,
    "48xlarge": 192,
    "96xlarge": 384,
}
#: GiB of memory per vCPU by family letter (m general, c compute, r memory, t burstable …).
_MEMORY_PER_CPU = {"m": 4, "c": 2, "r": 8, "t": 4, "g": 4, "p": 8, "i": 8, "x": 16, "z": 8}
_GPU_FAMILIES = ("p2", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6", "g4dn", "g5", "g6")


@dataclass(frozen=True)
class InstanceRequest:
    """What an instance type stands for."""

    instance_type: str
    vcpus: int
    memory_gib: int
    gpus: int


def _gpus(family: str, size: str) -> int:
    if not family.startswith(_GPU_FAMILIES) and not re.match(r"^g\d", family):
        return 0
    if family.startswith(("p4", "p5", "p6")) or family == "p3dn":
        return 8
    if family.startswith("p2"):
        return {"xlarge": 1, "8xlarge": 8, "16xlarge": 16}.get(size, 1)
    if family.startswith("p3"):
        return {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8}.get(size, 1)
    return {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}.get(size, 1)


def parse_instance_type(instance_type: str) -> InstanceRequest:
    """vCPUs, memory and GPUs of an ``ml.<family>.<size>`` instance type.

    Raises:
        ValidationError: Not an instance type, or a size Lakeworks does not know.
    """
    match = _TYPE.match(instance_type)
    if match is None or match.group(2) not in _SIZES:
        raise ValidationError(
            f"Invalid instance type {instance_type!r}: expected ml.<family>.<size> such as "
            f"'ml.m5.xlarge'; sizes: {', '.join(_SIZES)}",
            details={"field": "ResourceConfig.InstanceType"},
        )
    family, size = match.groups()
    vcpus = _SIZES[size]
    if family == "t3" and size == "medium":
        memory = 4
    else:
        memory = vcpus * _MEMORY_PER_CPU.get(family[:1], 4)
    return InstanceRequest(instance_type, vcpus, memory, _gpus(family, size))


def detect_gpus(
    dev: Path = Path("/dev"), visible: str | None = None, *, environ: Mapping[str, str] = os.environ
) -> int:
    """NVIDIA GPUs visible here: ``/dev/nvidia<N>`` devices, narrowed by ``CUDA_VISIBLE_DEVICES``.

    Args:
        dev: Where device files are (tests point it elsewhere).
        visible: ``CUDA_VISIBLE_DEVICES``; read from ``environ`` when None (hardware discovery,
            not a setting: the server's own process decides which GPUs it may hand out).
        environ: The environment to read it from.
    """
    if visible is None:
        visible = environ.get("CUDA_VISIBLE_DEVICES")
    devices = [p for p in dev.glob("nvidia[0-9]*") if p.name[6:].isdigit()]
    if visible is not None:
        wanted = [v for v in visible.split(",") if v.strip() and v.strip() != "-1"]
        return min(len(wanted), len(devices))
    return len(devices)
