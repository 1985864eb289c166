"""The persisted progress of a blue/green deployment: its round trip through the database and
the bake a resumed deployment still has to wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lakeworks.db import Database
from lakeworks.hosting.deployments import Step, remaining_bake
from lakeworks.hosting.rollout import forget_progress, progress, save_progress

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    """What the progress helpers need of the engine: a migrated database."""
    db = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    db.upgrade()
    return SimpleNamespace(db=db)


def test_progress_round_trips_every_field(engine: Any) -> None:
    assert progress(engine, "ep") is None
    save_progress(
        engine, "ep", config_name="green", phase="Creating", started=T0, old_fleet="ep-blue"
    )
    created = progress(engine, "ep")
    assert created is not None
    assert (created.phase, created.step, created.fraction) == ("Creating", 0, 0.0)
    assert created.started == T0
    assert created.started.tzinfo is not None
    assert created.new_fleet is None
    assert created.step_started is None
    save_progress(
        engine,
        "ep",
        phase="Baking",
        new_fleet="ep-green",
        step=1,
        fraction=0.25,
        step_started=T0 + timedelta(seconds=30),
    )
    baking = progress(engine, "ep")
    assert baking is not None
    assert (baking.config_name, baking.old_fleet, baking.new_fleet) == (
        "green",
        "ep-blue",
        "ep-green",
    )
    assert (baking.phase, baking.step, baking.fraction) == ("Baking", 1, 0.25)
    assert baking.step_started == T0 + timedelta(seconds=30)
    assert baking.started == T0  # a later step keeps the update's start
    save_progress(engine, "ep", phase="Retiring", retire_at=T0 + timedelta(minutes=5))
    retiring = progress(engine, "ep")
    assert retiring is not None
    assert retiring.retire_at == T0 + timedelta(minutes=5)


def test_forget_only_the_deployment_it_names(engine: Any) -> None:
    save_progress(engine, "ep", config_name="c", phase="Retiring", started=T0, old_fleet="ep-a")
    forget_progress(engine, "ep", phase="Retiring", old_fleet="ep-other")
    assert progress(engine, "ep") is not None  # another fleet's retirement
    forget_progress(engine, "ep", phase="Baking")
    assert progress(engine, "ep") is not None  # not in that phase
    forget_progress(engine, "ep", phase="Retiring", old_fleet="ep-a")
    assert progress(engine, "ep") is None
    forget_progress(engine, "ep")  # nothing left: no error


def test_rollback_reason_is_kept(engine: Any) -> None:
    save_progress(engine, "ep", config_name="c", phase="Creating", started=T0)
    save_progress(engine, "ep", phase="RollingBack", reason="alarm errors is in ALARM")
    saved = progress(engine, "ep")
    assert saved is not None
    assert (saved.phase, saved.reason) == ("RollingBack", "alarm errors is in ALARM")


def test_a_resumed_bake_waits_only_what_is_left() -> None:
    step = Step(0.1, 60.0)
    assert remaining_bake(step, None, T0) == 60.0
    assert remaining_bake(step, T0, T0 + timedelta(seconds=45)) == pytest.approx(15.0)
    assert remaining_bake(step, T0, T0 + timedelta(seconds=90)) == 0.0
