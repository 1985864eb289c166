"""PLACEHOLDER — being written by the lake helper; replaced wholesale."""

from __future__ import annotations

from lakeworks.core.settings import Settings
from lakeworks.db import Database


class LakeService:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
