"""Tuning jobs end to end on the FakeBackend: early stopping, grids, targets, restarts."""

from __future__ import annotations

import time

import pytest
from tests.tuning.conftest import ADMIN, MakeStack, tuning_request

from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.schemas.tuning import CategoricalParameterRange, WarmStartConfig
from lakeworks.tuning import store


def test_random_search_runs_every_trial_and_records_objectives(make_stack: MakeStack) -> None:
    stack = make_stack()
    created = stack.tuning.create_tuning_job(ADMIN, tuning_request("rand"))
    assert created.hyper_parameter_tuning_job_status == "InProgress"
    info = stack.wait("rand")
    assert info.hyper_parameter_tuning_job_status == "Completed"
    assert info.training_job_status_counters.completed == 4
    trials = stack.tuning.list_training_jobs_for_tuning_job(ADMIN, "rand", max_results=100).items
    assert [t.training_job_name[:9] for t in trials] == [
        "rand-000-",
        "rand-001-",
        "rand-002-",
        "rand-003-",
    ]
    for trial in trials:
        x = float(trial.tuned_hyperparameters["x"])
        objective = trial.final_hyper_parameter_tuning_job_objective_metric
        assert objective is not None
        assert objective.value == pytest.approx((x - 0.3) ** 2 + 0.2, abs=1e-5)
    assert info.best_training_job is not None
    best = min(trials, key=lambda t: t.final_hyper_parameter_tuning_job_objective_metric.value)  # type: ignore[union-attr]
    assert info.best_training_job.training_job_name == best.training_job_name


def test_never_more_trials_at_once_than_allowed(make_stack: MakeStack) -> None:
    stack = make_stack(lambda n, hps: ([1.0], 0.3))
    stack.tuning.create_tuning_job(ADMIN, tuning_request("limited", jobs=5, parallel=2))
    peak = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = stack.tuning.describe_tuning_job(ADMIN, "limited")
        peak = max(peak, info.training_job_status_counters.in_progress)
        if info.hyper_parameter_tuning_job_status != "InProgress":
            break
        time.sleep(0.02)
    assert info.training_job_status_counters.completed == 5
    assert 1 <= peak <= 2


def test_hyperband_stops_weak_trials_early(make_stack: MakeStack) -> None:
    def curves(number: int, hps: dict[str, str]) -> tuple[list[float], float]:
        x = float(hps["x"])
        # Every trial runs a while; the weak ones are stopped long before they end.
        return [(x - 0.3) ** 2 + 1.0 / step for step in range(1, 10)], 2.0

    stack = make_stack(curves)
    request = tuning_request(
        "band",
        strategy="Hyperband",
        jobs=9,
        parallel=9,
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 27}},
    )
    stack.tuning.create_tuning_job(ADMIN, request)
    info = stack.wait("band")
    assert info.hyper_parameter_tuning_job_status == "Completed"
    counters = info.training_job_status_counters
    # At the rung only the best third continues; on a loaded machine some weak trials finish
    # before the controller sees their rung, so require early stops, not an exact count.
    assert counters.stopped >= 1
    assert counters.completed + counters.stopped == 9
    with stack.tuning.db.session() as session:
        trials = list(store.trials_of(session, "band"))
    stopped = [t for t in trials if t.early_stopped]
    kept = [t for t in trials if not t.early_stopped]
    assert stopped
    assert all(t.objective_status == "Succeeded" for t in trials)  # last values count
    assert min(t.objective_value or 9 for t in kept) <= min(t.objective_value or 9 for t in stopped)


def test_auto_early_stopping_stops_trials_worse_than_the_median(make_stack: MakeStack) -> None:
    def curves(number: int, hps: dict[str, str]) -> tuple[list[float], float]:
        if number < 3:
            return [1.0, 0.5, 0.25, 0.2], 0.0  # three good trials finish at once
        return [5.0, 4.0, 3.9, 3.8], 30.0  # then a bad one that would run for long

    stack = make_stack(curves)
    request = tuning_request("median", jobs=4, parallel=1, TrainingJobEarlyStoppingType="Auto")
    stack.tuning.create_tuning_job(ADMIN, request)
    info = stack.wait("median")
    assert info.hyper_parameter_tuning_job_status == "Completed"
    assert info.training_job_status_counters.stopped == 1
    assert info.training_job_status_counters.completed == 3


def test_grid_search_tries_each_combination_once(make_stack: MakeStack) -> None:
    stack = make_stack()
    request = tuning_request("grid", strategy="Grid", jobs=None, parallel=3)
    ranges = request.hyper_parameter_tuning_job_config.parameter_ranges
    assert ranges is not None
    ranges.continuous_parameter_ranges = []
    ranges.categorical_parameter_ranges = [
        CategoricalParameterRange(name="x", values=["-0.5", "0.3"]),
        CategoricalParameterRange(name="kind", values=["a", "b", "c"]),
    ]
    stack.tuning.create_tuning_job(ADMIN, request)
    info = stack.wait("grid")
    assert info.hyper_parameter_tuning_job_status == "Completed"
    trials = stack.tuning.list_training_jobs_for_tuning_job(ADMIN, "grid", max_results=100).items
    combos = {(t.tuned_hyperparameters["x"], t.tuned_hyperparameters["kind"]) for t in trials}
    assert len(trials) == 6
    assert len(combos) == 6


def test_reaching_the_target_objective_ends_the_job_early(make_stack: MakeStack) -> None:
    stack = make_stack(lambda n, hps: ([0.1], 0.0))
    request = tuning_request(
        "target",
        jobs=10,
        parallel=1,
        TuningJobCompletionCriteria={"TargetObjectiveMetricValue": 0.5},
    )
    stack.tuning.create_tuning_job(ADMIN, request)
    info = stack.wait("target")
    assert info.hyper_parameter_tuning_job_status == "Completed"
    assert info.training_job_status_counters.completed < 10
    assert info.tuning_job_completion_details is not None


def test_a_restarted_server_carries_on_without_repeating_trials(make_stack: MakeStack) -> None:
    first = make_stack(lambda n, hps: ([1.0 + n], 0.4))
    first.tuning.create_tuning_job(ADMIN, tuning_request("resume", jobs=4, parallel=1))
    deadline = time.monotonic() + 30
    while not first.tuning.list_training_jobs_for_tuning_job(ADMIN, "resume").items:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.close()
    second = make_stack(lambda n, hps: ([1.0 + n], 0.4))
    info = second.wait("resume")
    assert info.hyper_parameter_tuning_job_status == "Completed"
    trials = second.tuning.list_training_jobs_for_tuning_job(ADMIN, "resume", max_results=100).items
    assert len(trials) == 4
    assert len({t.training_job_name for t in trials}) == 4
    assert info.best_training_job is not None
    assert info.best_training_job.training_job_name.startswith("resume-000-")


def test_stop_ends_the_job_stopped(make_stack: MakeStack) -> None:
    stack = make_stack(lambda n, hps: ([1.0], 30.0))
    stack.tuning.create_tuning_job(ADMIN, tuning_request("halt", jobs=4, parallel=2))
    deadline = time.monotonic() + 30
    while len(stack.tuning.list_training_jobs_for_tuning_job(ADMIN, "halt").items) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert (
        stack.tuning.stop_tuning_job(ADMIN, "halt").hyper_parameter_tuning_job_status == "Stopping"
    )
    info = stack.wait("halt")
    assert info.hyper_parameter_tuning_job_status == "Stopped"
    assert info.training_job_status_counters.stopped == 2
    with pytest.raises(ValidationError, match="Stopped"):
        stack.tuning.stop_tuning_job(ADMIN, "halt")


def test_names_and_lookups(make_stack: MakeStack) -> None:
    stack = make_stack(start=False)
    stack.tuning.create_tuning_job(ADMIN, tuning_request("dup"))
    with pytest.raises(AlreadyExists):
        stack.tuning.create_tuning_job(ADMIN, tuning_request("dup"))
    with pytest.raises(NotFound):
        stack.tuning.describe_tuning_job(ADMIN, "missing")
    with pytest.raises(NotFound):
        stack.tuning.list_training_jobs_for_tuning_job(ADMIN, "missing")
    page = stack.tuning.list_tuning_jobs(ADMIN, name_contains="DU")
    assert [s.hyper_parameter_tuning_job_name for s in page.items] == ["dup"]
    with pytest.raises(ValidationError, match="NextToken"):
        stack.tuning.list_tuning_jobs(ADMIN, next_token="bogus")


def test_warm_start_needs_a_finished_parent_with_the_same_objective(make_stack: MakeStack) -> None:
    stack = make_stack(start=False)
    stack.tuning.create_tuning_job(ADMIN, tuning_request("parent"))
    child = tuning_request(
        "child",
        strategy="Bayesian",
    )
    child.warm_start_config = WarmStartConfig.model_validate(
        {
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}],
            "WarmStartType": "TransferLearning",
        }
    )
    with pytest.raises(ValidationError, match="must have ended"):
        stack.tuning.create_tuning_job(ADMIN, child)
