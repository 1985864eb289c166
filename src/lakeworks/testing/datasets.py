"""Where the team's shared datasets live, for tests and benchmarks (never shipped in the package).

The checkout sits beside ``shared/`` (``<parent>/main`` and ``<parent>/shared``); CI clones
elsewhere with a copy of ``shared/`` beside the clone. ``LAKEWORKS_SHARED_DIR`` overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["book_dataset", "shared_dir"]


def shared_dir() -> Path:
    """The ``shared/`` folder beside the checkout (or ``$LAKEWORKS_SHARED_DIR``)."""
    configured = os.environ.get("LAKEWORKS_SHARED_DIR")
    if configured:
        return Path(configured)
    repo = Path(__file__).resolve().parents[3]
    for candidate in (repo.parent / "shared", Path.cwd().parent / "shared", Path("/work/shared")):
        if (candidate / "datasets").is_dir():
            return candidate
    return repo.parent / "shared"


def book_dataset(name: str = "") -> Path:
    """A file (or, with no name, the folder) of the book's datasets in ``shared/datasets/book``."""
    return shared_dir() / "datasets" / "book" / name if name else shared_dir() / "datasets" / "book"
