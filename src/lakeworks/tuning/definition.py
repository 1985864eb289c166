"""A tuning job's training job definition: checked once, then stamped out as trials.

At create time :func:`check_definition` makes sure every trial *could* run: the image is a
built-in algorithm (or a framework script), the tuned and static hyperparameters are ones the
algorithm knows and each range's ends are values it accepts (so a range of ``eta`` from 0 to 2
is refused with XGBoost's ``[0, 1]``), and the objective metric is one the training jobs will
report — a built-in algorithm's metric (``validation:rmse``) or one of the definition's
MetricDefinitions. :func:`trial_request` then builds each trial's CreateTrainingJob request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.training import AlgorithmSpecification, TrainingJobCreate
from lakeworks.schemas.tuning import HyperParameterTrainingJobDefinition, TuningJobCreate
from lakeworks.training.images import find_algorithm
from lakeworks.training.plan import builtin_metric_definitions
from lakeworks.training.script_mode import split_hyperparameters
from lakeworks.tuning.ranges import CategoricalRange, SearchSpace, format_value

__all__ = [
    "TUNING_OBJECTIVE",
    "CheckedDefinition",
    "check_definition",
    "definition_of",
    "trial_name",
    "trial_request",
]

#: The hyperparameter SageMaker adds to built-in algorithms' trials: the objective's name.
TUNING_OBJECTIVE = "_tuning_objective_metric"


@dataclass(frozen=True)
class CheckedDefinition:
    """What the checks found out."""

    algorithm: str | None
    metric_names: list[str]


def definition_of(request: TuningJobCreate) -> HyperParameterTrainingJobDefinition:
    """The one training job definition of ``request``.

    Raises:
        ValidationError: None given, or more than one (not supported).
    """
    definitions = list(request.training_job_definitions or [])
    if request.training_job_definition is not None:
        definitions.insert(0, request.training_job_definition)
    if len(definitions) != 1:
        raise ValidationError(
            "Give exactly one TrainingJobDefinition (several TrainingJobDefinitions are not "
            f"supported by Lakeworks; got {len(definitions)})",
            details={"field": "TrainingJobDefinition"},
        )
    return definitions[0]


def _image(definition: HyperParameterTrainingJobDefinition) -> str:
    spec = definition.algorithm_specification
    return str(spec.training_image or spec.algorithm_name or "")


def check_definition(
    definition: HyperParameterTrainingJobDefinition, space: SearchSpace, objective: str
) -> CheckedDefinition:
    """Check that trials of ``definition`` over ``space`` can run and report ``objective``.

    Raises:
        ValidationError: Naming the hyperparameter, range end or metric, and what is allowed.
    """
    overlap = sorted(set(space.names) & set(definition.static_hyperparameters))
    if overlap:
        raise ValidationError(
            f"Hyperparameters {overlap} are both static and tuned; give each in one place",
            details={"field": "StaticHyperParameters"},
        )
    user_metrics = [d.name for d in definition.algorithm_specification.metric_definitions]
    image = _image(definition)
    found = find_algorithm(image) if image else None
    script = split_hyperparameters(definition.static_hyperparameters)
    if found is None or script is not None:
        if objective not in user_metrics:
            raise ValidationError(
                f"The objective metric {objective!r} is not among the MetricDefinitions of the "
                f"training job definition ({', '.join(user_metrics) or 'none'}); a script's "
                "metrics come from MetricDefinitions",
                details={"field": "HyperParameterTuningJobObjective.MetricName"},
            )
        return CheckedDefinition(None, user_metrics)
    from lakeworks.training.algorithms.base import algorithm_class

    algorithm = found.algorithm
    spec = algorithm_class(algorithm).spec
    for name in space.names:
        if name not in spec:
            raise ValidationError(
                f"Unknown hyperparameter {name!r} in ParameterRanges for algorithm "
                f"{algorithm!r}; allowed: {', '.join(sorted(spec.names))}",
                details={"hyperparameter": name, "allowed": sorted(spec.names)},
            )
    for r in space.ranges:
        ends = r.values if isinstance(r, CategoricalRange) else (r.low, r.high)
        for value in ends:
            spec.convert(spec[r.name], format_value(value))
    # Static values (and that nothing required is missing) are checked with the lower ends.
    sample = {
        **definition.static_hyperparameters,
        **{
            r.name: format_value(r.values[0] if isinstance(r, CategoricalRange) else r.low)
            for r in space.ranges
        },
    }
    if TUNING_OBJECTIVE in spec:
        sample[TUNING_OBJECTIVE] = objective
    spec.parse(sample)
    metrics = user_metrics + [d["Name"] for d in builtin_metric_definitions(algorithm)]
    if objective not in metrics:
        raise ValidationError(
            f"The objective metric {objective!r} is not one {algorithm} reports; choose one of "
            f"{', '.join(sorted(set(metrics)))}",
            details={
                "field": "HyperParameterTuningJobObjective.MetricName",
                "allowed": sorted(set(metrics)),
            },
        )
    return CheckedDefinition(algorithm, metrics)


def trial_name(tuning_job_name: str, number: int) -> str:
    """SageMaker's trial naming: ``<tuning job>-<NNN>-<8 hex>``."""
    digest = hashlib.sha256(f"{tuning_job_name}/{number}".encode()).hexdigest()[:8]
    return f"{tuning_job_name}-{number:03d}-{digest}"


def trial_request(
    definition: HyperParameterTrainingJobDefinition,
    name: str,
    tuned: dict[str, str],
    *,
    objective: str,
    builtin: bool,
    tags: list[dict[str, str]],
) -> TrainingJobCreate:
    """The CreateTrainingJob request of one trial."""
    hyperparameters = {**definition.static_hyperparameters, **tuned}
    if builtin:
        hyperparameters[TUNING_OBJECTIVE] = objective
    spec = definition.algorithm_specification
    body = {
        "training_job_name": name,
        "hyperparameters": hyperparameters,
        "algorithm_specification": AlgorithmSpecification(
            training_image=spec.training_image,
            algorithm_name=spec.algorithm_name,
            training_input_mode=spec.training_input_mode,
            metric_definitions=spec.metric_definitions,
        ),
        "role_arn": definition.role_arn,
        "input_data_config": definition.input_data_config,
        "output_data_config": definition.output_data_config,
        "stopping_condition": definition.stopping_condition,
        "environment": definition.environment,
        "checkpoint_config": definition.checkpoint_config,
        "vpc_config": definition.vpc_config,
        "enable_network_isolation": definition.enable_network_isolation,
        "enable_managed_spot_training": definition.enable_managed_spot_training,
        "retry_strategy": definition.retry_strategy,
        "tags": tags,
    }
    if definition.resource_config is not None:
        body["resource_config"] = definition.resource_config
    return TrainingJobCreate.model_validate(body)
