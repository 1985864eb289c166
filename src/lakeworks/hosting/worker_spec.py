"""What a model server process serves: the plan the server writes and the worker reads.

The server prepares everything a model server needs on local disk (artifacts extracted and
checked, code staged) and writes one :class:`WorkerSpec` as ``worker.json`` into the instance's
directory. The model server reads nothing else: no database, no lake, no server settings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["ContainerPlan", "WorkerSpec"]

HandlerKind = Literal["builtin", "script"]


@dataclass(frozen=True)
class ContainerPlan:
    """One container of the model, ready to load.

    Attributes:
        hostname: The container's hostname (``primary`` for a single container); names it in
            errors and selects it with ``TargetContainerHostname`` in ``Direct`` mode.
        kind: ``builtin`` (a built-in algorithm's artifact) or ``script`` (``inference.py``).
        image: The image as the model names it.
        model_dir: The extracted artifact; for a multi-model container, the directory under
            which the server stages each target model (one subdirectory per model).
        code_dir: Where ``program`` lives (script mode).
        program: The inference script's file name (script mode), e.g. ``inference.py``.
        environment: The container's ``Environment``.
        multi_model: Whether the container serves many models (``Mode: MultiModel``).
        default_accept: Response type when a request names none (or ``*/*``).
        algorithm: The built-in algorithm the image names (``builtin``), e.g. ``xgboost``.
    """

    hostname: str
    kind: HandlerKind
    image: str
    model_dir: str
    code_dir: str | None = None
    program: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    multi_model: bool = False
    default_accept: str | None = None
    algorithm: str | None = None


@dataclass(frozen=True)
class WorkerSpec:
    """Everything one model server process serves.

    Attributes:
        endpoint: The endpoint's name (for logs).
        variant: The variant's name (for logs).
        containers: The model's containers, in order.
        execution_mode: ``Serial`` runs them as a pipeline; ``Direct`` runs the one a request
            targets (the first by default).
        cache_bytes: Memory budget for the models a multi-model container keeps loaded.
    """

    endpoint: str
    variant: str
    containers: tuple[ContainerPlan, ...]
    execution_mode: Literal["Serial", "Direct"] = "Serial"
    cache_bytes: int = 1024**3

    def to_json(self) -> str:
        """The spec as the JSON text of ``worker.json``."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        """Parse ``worker.json``.

        Raises:
            ValueError: Not a worker spec.
        """
        data: dict[str, Any] = json.loads(text)
        containers = tuple(ContainerPlan(**c) for c in data.pop("containers"))
        return cls(containers=containers, **data)

    def write(self, path: Path) -> None:
        """Write the spec to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())
