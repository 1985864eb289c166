"""Lakeworks: a self-hosted ML platform with an AWS-compatible front door.

``import lakeworks`` stays light: it gives the :class:`Client`, the version and the errors.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lakeworks.core.errors import *  # noqa: F403
from lakeworks.core.errors import __all__ as _errors

__version__ = "0.1.0"
__all__ = ["Client", "__version__", *_errors]

if TYPE_CHECKING:
    from lakeworks.sdk.client import Client


def __getattr__(name: str) -> Any:
    if name == "Client":
        # Imported by name so that domains importing ``lakeworks`` do not depend on the SDK.
        return importlib.import_module("lakeworks.sdk.client").Client
    raise AttributeError(name)
