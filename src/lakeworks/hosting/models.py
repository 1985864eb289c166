"""Models: which containers serve them and how each container's image is run.

An image is one of

* a **built-in algorithm** (any region's URI, or a plain name such as ``xgboost``; resolved by
  :mod:`lakeworks.training.images`): its ``model.tar.gz`` is served by
  :mod:`lakeworks.hosting.handlers.builtin`;
* a **framework image** (``sagemaker-scikit-learn``, ``sagemaker-xgboost`` with a script,
  ``pytorch-inference``, ``tensorflow-inference``, ``mxnet-inference``,
  ``huggingface-pytorch-inference``, ``sagemaker-chainer``): script mode, ``inference.py`` with
  ``model_fn``/``input_fn``/``predict_fn``/``output_fn``, taken from ``SAGEMAKER_PROGRAM`` in
  ``SAGEMAKER_SUBMIT_DIRECTORY`` (an ``s3://`` tar.gz or prefix) or from ``code/`` inside
  ``model.tar.gz`` (what the SageMaker SDK repacks);
* **any other image** when ``SAGEMAKER_PROGRAM`` names the script (script mode as above).

The framework itself must be importable in the server's Python (scikit-learn and XGBoost are;
PyTorch or TensorFlow only if installed): Lakeworks runs no containers.

**Trusted models.** Pickled files (``.pkl``, ``.joblib``, ``.pt`` …, or pickle bytes) in a
model's artifact are refused, because unpickling runs code. A model whose owner vouches for its
files is marked trusted with the container environment ``LAKEWORKS_TRUSTED_MODEL=true`` or the
model tag ``lakeworks:trusted-model=true``; then its script may unpickle them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.hosting import ContainerDefinition, ModelCreate, tag_map
from lakeworks.training.images import find_algorithm, parse_image_uri

__all__ = [
    "FRAMEWORK_REPOSITORIES",
    "TRUSTED_ENV",
    "TRUSTED_TAG",
    "ContainerRuntime",
    "check_model",
    "containers_of",
    "hostnames_of",
    "is_trusted",
    "resolve_container",
]

TRUSTED_ENV = "LAKEWORKS_TRUSTED_MODEL"
TRUSTED_TAG = "lakeworks:trusted-model"
DEFAULT_PROGRAM = "inference.py"
#: Repository name → framework, for images that run inference.py.
FRAMEWORK_REPOSITORIES = {
    "sagemaker-scikit-learn": "sklearn",
    "sagemaker-xgboost": "xgboost",
    "pytorch-inference": "pytorch",
    "sagemaker-pytorch": "pytorch",
    "tensorflow-inference": "tensorflow",
    "sagemaker-tensorflow-serving": "tensorflow",
    "mxnet-inference": "mxnet",
    "sagemaker-mxnet": "mxnet",
    "huggingface-pytorch-inference": "huggingface",
    "sagemaker-chainer": "chainer",
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$")
_PROGRAM = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,255}\.py$")


@dataclass(frozen=True)
class ContainerRuntime:
    """How Lakeworks runs one container.

    Attributes:
        kind: ``builtin`` or ``script``.
        algorithm: The built-in algorithm (``builtin``).
        framework: The framework the image stands for, if known.
        program: The inference script (``script``).
        submit_directory: ``SAGEMAKER_SUBMIT_DIRECTORY`` if set.
    """

    kind: Literal["builtin", "script"]
    algorithm: str | None = None
    framework: str | None = None
    program: str | None = None
    submit_directory: str | None = None


def containers_of(spec: ModelCreate) -> list[ContainerDefinition]:
    """The model's containers in order (the primary container alone, or ``containers``)."""
    if spec.primary_container is not None:
        return [spec.primary_container]
    return list(spec.containers or [])


def hostnames_of(spec: ModelCreate) -> list[str]:
    """Each container's hostname: as given, else ``primary`` (one) or ``container-<n>``."""
    containers = containers_of(spec)
    if spec.primary_container is not None:
        return [containers[0].container_hostname or "primary"]
    return [c.container_hostname or f"container-{i}" for i, c in enumerate(containers, start=1)]


def _framework(image: str) -> str | None:
    _, repository, _ = parse_image_uri(image)
    for candidate in (repository.lower(), repository.lower().rsplit("/", 1)[-1]):
        if candidate in FRAMEWORK_REPOSITORIES:
            return FRAMEWORK_REPOSITORIES[candidate]
    return None


def resolve_container(container: ContainerDefinition) -> ContainerRuntime:
    """Decide how ``container`` runs (see the module docstring).

    Raises:
        ValidationError: No image, or an image that is neither a built-in algorithm nor a
            framework image, without ``SAGEMAKER_PROGRAM``.
    """
    if container.model_package_name and not container.image:
        raise ValidationError(
            "Containers from model packages (ModelPackageName) are not supported yet; give the "
            "Image and ModelDataUrl"
        )
    if not container.image:
        raise ValidationError("Every container needs an Image")
    env = container.environment
    program = env.get("SAGEMAKER_PROGRAM")
    submit = env.get("SAGEMAKER_SUBMIT_DIRECTORY")
    framework = _framework(container.image)
    algorithm = find_algorithm(container.image)
    if program:
        return ContainerRuntime("script", None, framework, program, submit)
    if algorithm is not None:
        return ContainerRuntime("builtin", algorithm.algorithm, None, None, None)
    if framework is not None:
        return ContainerRuntime("script", None, framework, DEFAULT_PROGRAM, submit)
    _, repository, _ = parse_image_uri(container.image)
    raise ValidationError(
        f"Image {container.image!r} (repository {repository!r}) is neither a built-in algorithm "
        f"nor a framework image Lakeworks runs ({', '.join(sorted(FRAMEWORK_REPOSITORIES))}); "
        "to serve it in script mode, set SAGEMAKER_PROGRAM (and SAGEMAKER_SUBMIT_DIRECTORY) in "
        "its Environment"
    )


def is_trusted(spec: ModelCreate, container: ContainerDefinition) -> bool:
    """Whether the model's owner marked it trusted (its pickles may be loaded)."""
    flag = container.environment.get(TRUSTED_ENV, tag_map(spec.tags).get(TRUSTED_TAG, ""))
    return flag.strip().lower() in ("true", "1", "yes")


def check_model(spec: ModelCreate) -> None:
    """Check what the schema cannot: images, environments, hostnames, modes.

    Raises:
        ValidationError: Naming the container and the rule it breaks.
    """
    containers = containers_of(spec)
    names = hostnames_of(spec)
    if len(set(names)) != len(names):
        raise ValidationError(f"Container hostnames must be unique, got {names}")
    if spec.inference_execution_config is not None and spec.primary_container is not None:
        raise ValidationError(
            "InferenceExecutionConfig applies to models with Containers, not a PrimaryContainer"
        )
    for name, container in zip(names, containers, strict=True):
        resolve_container(container)
        for key in container.environment:
            if not _ENV_NAME.match(key):
                raise ValidationError(
                    f"Container {name}: invalid environment variable name {key!r} (letters, "
                    "digits and '_', not starting with a digit)"
                )
        program = container.environment.get("SAGEMAKER_PROGRAM")
        if program is not None and (not _PROGRAM.match(program) or ".." in program.split("/")):
            raise ValidationError(
                f"Container {name}: SAGEMAKER_PROGRAM {program!r} must be a relative .py path "
                "inside the code (no '..')"
            )
        submit = container.environment.get("SAGEMAKER_SUBMIT_DIRECTORY")
        if submit and not (submit.startswith("s3://") or submit.startswith("/opt/ml/model")):
            raise ValidationError(
                f"Container {name}: SAGEMAKER_SUBMIT_DIRECTORY must be an s3:// URI or lie under "
                "/opt/ml/model (the extracted model.tar.gz)"
            )
        if container.mode == "MultiModel":
            if len(containers) != 1:
                raise ValidationError("Mode MultiModel needs a model with exactly one container")
            if not container.model_data_url:
                raise ValidationError(
                    "Mode MultiModel needs ModelDataUrl: the s3:// prefix holding the models"
                )
