"""PLACEHOLDER — being written by the jobs helper; replaced wholesale."""

from __future__ import annotations

from typing import Any


class LocalBackend:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
