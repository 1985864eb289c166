"""PLACEHOLDER — being written by the jobs helper; replaced wholesale."""

from __future__ import annotations

from typing import Any

from lakeworks.core.settings import Settings
from lakeworks.db import Database


class JobService:
    def __init__(self, settings: Settings, db: Database, iam: Any, lake: Any, backend: Any) -> None:
        self.settings = settings

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass
