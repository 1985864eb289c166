"""Backends registered by name and imported only when chosen (Ray is never imported otherwise)."""

from __future__ import annotations

import importlib
from typing import Any

from lakeworks.core.errors import ValidationError

__all__ = ["BACKENDS", "load_backend_class"]

#: Name → ``module:attribute`` of each job backend.
BACKENDS: dict[str, str] = {
    "local": "lakeworks.backends.local:LocalBackend",
    "ray": "lakeworks.backends.ray:RayBackend",
}


def load_backend_class(name: str) -> Any:
    """Import and return the backend class registered as ``name``.

    Raises:
        ValidationError: No backend has that name, or its extra is not installed.
    """
    try:
        target = BACKENDS[name]
    except KeyError:
        raise ValidationError(
            f"Unknown jobs backend {name!r}; choose one of {sorted(BACKENDS)}"
        ) from None
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValidationError(
            f"Backend {name!r} needs an extra: pip install 'lakeworks[{name}]' ({exc})"
        ) from exc
    return getattr(module, attr)
