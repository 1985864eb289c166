"""CreateTrainingJob checks and the job it becomes, decided before anything is recorded.

Everything that can be known from the request is checked here, so a mistake is a
ValidationException at create time rather than a failed job minutes later: which algorithm or
framework the image stands for, the hyperparameters against the algorithm's spec (the unknown
one named, the allowed ones listed; wrong types and ranges with the range), the channels the
algorithm reads (a missing ``train`` channel, one it does not know) and their content types,
the metric definitions' regexes, the instance type, the checkpoint path and the output bucket.
What needs the data itself (a CSV with a header, non-numeric cells) fails the job, with the row
and column, once the algorithm reads it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lakeworks.core.errors import ValidationError
from lakeworks.core.names import validate_tags
from lakeworks.jobs.layout import JobPaths
from lakeworks.schemas.jobs import Channel as JobChannel
from lakeworks.schemas.jobs import JobCreate, ResourceConfig, StoppingCondition
from lakeworks.schemas.training import TrainingJobCreate
from lakeworks.training.channels import checkpoint_dir
from lakeworks.training.images import find_algorithm, parse_image_uri, resolve_algorithm
from lakeworks.training.instances import parse_instance_type
from lakeworks.training.runtime import BUILTIN_ENTRY_POINT
from lakeworks.training.script_mode import framework_for_repository, split_hyperparameters
from lakeworks.training.tracking import MetricMatcher

__all__ = ["TrainingPlan", "builtin_metric_definitions", "plan_training_job"]


@dataclass(frozen=True)
class TrainingPlan:
    """What a valid request runs as."""

    mode: str
    algorithm: str | None
    framework: str | None
    metric_definitions: list[dict[str, str]]
    job: JobCreate


def builtin_metric_definitions(algorithm: str) -> list[dict[str, str]]:
    """The metric definitions a built-in algorithm publishes (its log lines' regexes)."""
    from lakeworks.training.algorithms.base import algorithm_class

    return [d.as_aws() for d in algorithm_class(algorithm).metric_definitions()]


def _image_of(request: TrainingJobCreate) -> str:
    spec = request.algorithm_specification
    if bool(spec.training_image) == bool(spec.algorithm_name):
        raise ValidationError(
            "AlgorithmSpecification needs exactly one of TrainingImage (an image URI such as "
            "the one sagemaker.image_uris.retrieve returns) or AlgorithmName (e.g. 'xgboost')",
            details={"field": "AlgorithmSpecification"},
        )
    if spec.algorithm_name and spec.algorithm_name.startswith("arn:"):
        raise ValidationError(
            f"AlgorithmName {spec.algorithm_name!r}: algorithm resources (ARNs) are not "
            "supported; name a built-in algorithm or give a TrainingImage"
        )
    if spec.container_entrypoint or spec.container_arguments:
        raise ValidationError(
            "ContainerEntrypoint and ContainerArguments need a custom container, which "
            "Lakeworks does not run; use a built-in algorithm or a framework script"
        )
    return str(spec.training_image or spec.algorithm_name)


def _check_builtin(request: TrainingJobCreate, algorithm: str) -> None:
    from lakeworks.training.algorithms.base import algorithm_class
    from lakeworks.training.formats.channel import parse_content_type

    cls = algorithm_class(algorithm)
    cls.from_hyperparameters(request.hyperparameters)
    allowed = ("train", *cls.extra_channels)
    names = [c.channel_name for c in request.input_data_config]
    for channel in request.input_data_config:
        if channel.channel_name not in allowed:
            raise ValidationError(
                f"Channel {channel.channel_name!r} is not supported by {algorithm}; "
                f"use {', '.join(allowed)}",
                details={"field": "InputDataConfig", "allowed": list(allowed)},
            )
        parse_content_type(
            channel.content_type or cls.default_content_type, allowed=cls.content_types
        )
    if "train" not in names:
        raise ValidationError(
            f"{algorithm} needs a 'train' channel in InputDataConfig (channels given: "
            f"{', '.join(names) or 'none'}); allowed: {', '.join(allowed)}",
            details={"field": "InputDataConfig", "allowed": list(allowed)},
        )


def _check_script(request: TrainingJobCreate, repository: str) -> tuple[str, str, str]:
    """The framework, program and sources of a script-mode request."""
    framework = framework_for_repository(repository)
    hps = split_hyperparameters(request.hyperparameters)
    assert hps is not None
    if framework is None:
        raise ValidationError(
            f"Image repository {repository!r} is not a framework image; script mode "
            "(sagemaker_program) runs with the scikit-learn, XGBoost, PyTorch, TensorFlow or "
            "Hugging Face images",
            details={"field": "AlgorithmSpecification.TrainingImage"},
        )
    missing = [m for m in framework.modules if importlib.util.find_spec(m) is None]
    if missing:
        extra = f"pip install 'lakeworks[{framework.extra}]'" if framework.extra else ""
        raise ValidationError(
            f"{framework.display} scripts need {', '.join(missing)}, which this server does not "
            f"have; install the extra: {extra}",
            details={"extra": framework.extra, "missing": missing},
        )
    if not hps.submit_directory or not hps.submit_directory.startswith("s3://"):
        raise ValidationError(
            "Script mode needs the hyperparameter sagemaker_submit_directory: the s3:// URI of "
            "the sources (sourcedir.tar.gz, a .py file or a prefix); local paths are not "
            f"reachable from the server (got {hps.submit_directory!r})",
            details={"field": "HyperParameters.sagemaker_submit_directory"},
        )
    program = PurePosixPath(hps.program)
    if program.is_absolute() or ".." in program.parts or not hps.program.strip():
        raise ValidationError(
            f"sagemaker_program {hps.program!r} must be a relative path inside the sources"
        )
    return framework.name, hps.program, hps.submit_directory


def _check_common(request: TrainingJobCreate) -> list[dict[str, str]]:
    resources = request.resource_config
    if resources.instance_groups:
        raise ValidationError(
            "ResourceConfig.InstanceGroups (heterogeneous clusters) is not supported"
        )
    if resources.instance_count != 1:
        raise ValidationError(
            f"ResourceConfig.InstanceCount is {resources.instance_count}; Lakeworks runs a "
            "training job on one instance (InstanceCount 1)",
            details={"field": "ResourceConfig.InstanceCount", "allowed": [1]},
        )
    parse_instance_type(resources.instance_type or "ml.m5.large")
    names = [c.channel_name for c in request.input_data_config]
    if len(set(names)) != len(names):
        raise ValidationError(f"Channel names must be unique, got {names}")
    for channel in request.input_data_config:
        source = channel.data_source.s3_data_source
        if source is None or channel.data_source.file_system_data_source is not None:
            raise ValidationError(
                f"Channel {channel.channel_name!r}: only S3DataSource is supported "
                "(FileSystemDataSource needs EFS/FSx)"
            )
        if source.s3_data_type not in ("S3Prefix", "ManifestFile"):
            raise ValidationError(
                f"Channel {channel.channel_name!r}: S3DataType {source.s3_data_type!r} is not "
                "supported; use S3Prefix or ManifestFile",
                details={"allowed": ["S3Prefix", "ManifestFile"]},
            )
    definitions = [
        d.model_dump(by_alias=True) for d in request.algorithm_specification.metric_definitions
    ]
    problems = MetricMatcher.check_definitions(definitions)
    if problems:
        raise ValidationError(
            "Invalid MetricDefinitions: " + "; ".join(problems),
            details={"field": "AlgorithmSpecification.MetricDefinitions"},
        )
    if request.checkpoint_config is not None:
        checkpoint_dir(JobPaths(Path("/")), request.checkpoint_config.local_path)  # checks only
    validate_tags({t.key: t.value for t in request.tags})
    return definitions


def plan_training_job(request: TrainingJobCreate) -> TrainingPlan:
    """Check ``request`` and build the job it runs as.

    Raises:
        ValidationError: The first problem found, saying what is allowed.
    """
    user_definitions = _check_common(request)
    image = _image_of(request)
    _, repository, _ = parse_image_uri(image)
    script = split_hyperparameters(request.hyperparameters)
    framework: str | None = None
    algorithm: str | None = None
    if script is not None:
        framework, program, sources = _check_script(request, repository)
        mode, entry_point, code_uri = "script", program, sources
        definitions = user_definitions
    else:
        found = find_algorithm(image)
        if found is None and framework_for_repository(repository) is not None:
            raise ValidationError(
                f"Image {image!r} is a framework image: give the script as the hyperparameters "
                "sagemaker_program and sagemaker_submit_directory (the framework estimators "
                "of the SageMaker SDK do)",
                details={"field": "HyperParameters"},
            )
        algorithm = (found or resolve_algorithm(image)).algorithm
        _check_builtin(request, algorithm)
        mode, entry_point, code_uri = "builtin", BUILTIN_ENTRY_POINT, None
        own = {d["Name"] for d in user_definitions}
        definitions = user_definitions + [
            d for d in builtin_metric_definitions(algorithm) if d["Name"] not in own
        ]
    job = JobCreate(
        job_name=request.training_job_name,
        job_type="training",
        code_uri=code_uri,
        entry_point=entry_point,
        hyperparameters=request.hyperparameters,
        environment=request.environment,
        input_data_config=[
            JobChannel(
                channel_name=c.channel_name,
                s3_uri=c.data_source.s3_data_source.s3_uri,  # type: ignore[union-attr]
                content_type=c.content_type,
                compression_type=c.compression_type,
            )
            for c in request.input_data_config
        ],
        output_path=request.output_data_config.s3_output_path,
        resource_config=ResourceConfig(
            instance_type=request.resource_config.instance_type or "ml.m5.large",
            instance_count=1,
            volume_size_in_gb=max(1, request.resource_config.volume_size_in_gb),
        ),
        stopping_condition=StoppingCondition(
            max_runtime_in_seconds=request.stopping_condition.max_runtime_in_seconds
        ),
        tags={t.key: t.value for t in request.tags},
    )
    return TrainingPlan(mode, algorithm, framework, definitions, job)
