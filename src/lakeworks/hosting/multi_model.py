"""Multi-model endpoints: many models behind one container, loaded on first use.

A container with ``Mode: MultiModel`` has a ``ModelDataUrl`` *prefix*; an invocation names a
``TargetModel`` (``model-a.tar.gz``) under it. The server stages each target on first use
(download, checked extraction, the pickle check — see :mod:`lakeworks.hosting.artifacts`) into
its own directory, named by :func:`staged_name`, and tells the model server which one to use.
The model server keeps the loaded models in a :class:`ModelCache`: least recently used first
out once their estimated size passes the budget (``hosting.multi_model_cache_bytes``).

This module is pure (standard library only): the model server imports it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from lakeworks.core.errors import NotFound, ValidationError

__all__ = ["CacheStats", "ModelCache", "check_target_model", "directory_bytes", "staged_name"]

T = TypeVar("T")
_TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,1023}$")


def check_target_model(target: str) -> str:
    """Check a ``TargetModel``: a relative key under the prefix (no ``..``, no leading ``/``).

    Raises:
        ValidationError: With SageMaker Runtime's ``ValidationError`` code.
    """
    parts = target.split("/")
    if not _TARGET.match(target) or any(part in ("", ".", "..") for part in parts):
        raise ValidationError(
            f"Invalid TargetModel {target!r}: a relative object name under the model's "
            "ModelDataUrl prefix, e.g. 'model-a.tar.gz' (letters, digits, '._-/', no '..')",
            aws_code="ValidationError",
        )
    return target


def staged_name(target: str) -> str:
    """The directory name a target model is staged under (safe for any target string)."""
    return hashlib.sha256(target.encode()).hexdigest()[:32]


def directory_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path``: the estimate of a model's memory."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


@dataclass
class CacheStats:
    """What a cache did: loads, hits, evictions, and what it holds now."""

    loads: int = 0
    hits: int = 0
    evictions: int = 0
    bytes_held: int = 0
    models_held: int = 0


class ModelCache(Generic[T]):
    """Loaded models by staged name, evicting the least recently used past ``budget_bytes``.

    Args:
        root: Directory holding one staged model per subdirectory.
        budget_bytes: Memory budget (estimated by file size); the model being loaded is always
            kept, even alone over budget.
        load: Loads the model in a directory.
    """

    def __init__(self, root: Path, budget_bytes: int, load: Callable[[Path], T]) -> None:
        self.root = root
        self.budget_bytes = budget_bytes
        self.load = load
        self.stats = CacheStats()
        self._models: OrderedDict[str, tuple[T, int]] = OrderedDict()

    def __contains__(self, name: str) -> bool:
        return name in self._models

    def get(self, name: str) -> T:
        """The model staged as ``name``, loading it (and evicting others) if needed.

        Raises:
            NotFound: Nothing is staged under that name.
        """
        held = self._models.get(name)
        if held is not None:
            self._models.move_to_end(name)
            self.stats.hits += 1
            return held[0]
        path = self.root / name
        if not re.fullmatch(r"[0-9a-f]{32}", name) or not path.is_dir():
            raise NotFound(f"No staged model {name!r}")
        size = directory_bytes(path)
        while self._models and self.stats.bytes_held + size > self.budget_bytes:
            _, (_, freed) = self._models.popitem(last=False)
            self.stats.bytes_held -= freed
            self.stats.evictions += 1
        model = self.load(path)
        self._models[name] = (model, size)
        self.stats.loads += 1
        self.stats.bytes_held += size
        self.stats.models_held = len(self._models)
        return model

    def loaded(self) -> list[str]:
        """Staged names of the models held, least recently used first."""
        return list(self._models)
