"""Fixtures of the hosting tests: a tiny XGBoost model and its extracted artifact."""

from __future__ import annotations

from pathlib import Path

import pytest
import xgboost as xgb
from tests.hosting.support import train_xgboost


@pytest.fixture(scope="session")
def booster() -> xgb.Booster:
    """The small XGBoost regressor (4 features)."""
    return train_xgboost()


@pytest.fixture
def xgboost_dir(tmp_path: Path, booster: xgb.Booster) -> Path:
    """An extracted XGBoost artifact."""
    directory = tmp_path / "xgb-model"
    directory.mkdir()
    (directory / "xgboost-model").write_bytes(bytes(booster.save_raw("ubj")))
    return directory
