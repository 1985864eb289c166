"""Which built-in algorithm a training image (or a plain name) stands for.

``sagemaker.image_uris.retrieve("xgboost", region, "1.7-1")`` and friends return URIs such as
``683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1`` — the account differs per
region and partition (``.amazonaws.com.cn`` in China), the tag per version. Lakeworks resolves by
the **repository name** alone: registry host, account, region, tag and digest are ignored, so the
URI of any region works. A repository path with a namespace (``lakeworks/xgboost``) resolves by
its last segment.

=========================  ====================================================================
algorithm                  repository names (and plain names)
=========================  ====================================================================
xgboost                    ``sagemaker-xgboost`` (1.0-1 … 3.0-5), ``xgboost`` (the 0.72 image)
linear-learner             ``linear-learner``
kmeans                     ``kmeans``
pca                        ``pca``
knn                        ``knn``
randomcutforest            ``randomcutforest``
factorization-machines     ``factorization-machines``
lightgbm                   ``lightgbm``, ``sagemaker-lightgbm``, ``lightgbm-classification``,
                           ``lightgbm-regression`` (SageMaker ships LightGBM as a JumpStart script
                           model with no image of its own; these names are Lakeworks' choice,
                           e.g. ``<any account>.dkr.ecr.<region>.amazonaws.com/lightgbm:4``)
mlp                        ``mlp``, ``lakeworks-mlp`` (a Lakeworks algorithm)
=========================  ====================================================================

This module imports nothing heavy: the server validates images with it at request time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakeworks.core.errors import ValidationError

__all__ = [
    "ALGORITHM_NAMES",
    "ResolvedImage",
    "find_algorithm",
    "parse_image_uri",
    "resolve_algorithm",
]

ALGORITHM_NAMES: tuple[str, ...] = (
    "factorization-machines",
    "kmeans",
    "knn",
    "lightgbm",
    "linear-learner",
    "mlp",
    "pca",
    "randomcutforest",
    "xgboost",
)

_REPOSITORIES: dict[str, str] = {
    "sagemaker-xgboost": "xgboost",
    "xgboost": "xgboost",
    "linear-learner": "linear-learner",
    "kmeans": "kmeans",
    "pca": "pca",
    "knn": "knn",
    "randomcutforest": "randomcutforest",
    "factorization-machines": "factorization-machines",
    "lightgbm": "lightgbm",
    "sagemaker-lightgbm": "lightgbm",
    "lightgbm-classification": "lightgbm",
    "lightgbm-regression": "lightgbm",
    "lightgbm-classification-model": "lightgbm",
    "lightgbm-regression-model": "lightgbm",
    "mlp": "mlp",
    "lakeworks-mlp": "mlp",
}
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$")


@dataclass(frozen=True)
class ResolvedImage:
    """An image URI split into registry, repository and tag, with the algorithm it names."""

    algorithm: str
    registry: str | None
    repository: str
    tag: str | None


def parse_image_uri(uri: str) -> tuple[str | None, str, str | None]:
    """Split ``[registry/]repository[:tag][@digest]`` → ``(registry, repository, tag)``.

    The first path segment is a registry when it holds a ``.`` or ``:`` or is ``localhost``
    (Docker's rule). A digest is dropped; the tag is None when absent.

    Raises:
        ValidationError: Not an image reference.
    """
    text = uri.strip()
    if not text or len(text) > 512 or not _REFERENCE.match(text):
        raise ValidationError(
            f"{uri!r} is not an image URI or algorithm name; expected e.g. "
            "'683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1' or 'xgboost'"
        )
    text = text.split("@", 1)[0]
    registry: str | None = None
    first, sep, rest = text.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, text = first, rest
    repository, _, tag = text.rpartition(":") if ":" in text else (text, "", "")
    return registry, repository.strip("/"), tag or None


def find_algorithm(image_or_name: str) -> ResolvedImage | None:
    """The built-in algorithm an image URI or name stands for, or None when it is none of them.

    Raises:
        ValidationError: Not an image reference at all.
    """
    registry, repository, tag = parse_image_uri(image_or_name)
    candidates = (repository.lower(), repository.lower().rsplit("/", 1)[-1])
    for candidate in candidates:
        algorithm = _REPOSITORIES.get(candidate)
        if algorithm is not None:
            return ResolvedImage(algorithm, registry, repository, tag)
    return None


def resolve_algorithm(image_or_name: str) -> ResolvedImage:
    """Like :func:`find_algorithm`, but an unknown image is an error listing what is supported.

    Raises:
        ValidationError: The image or name is not a built-in algorithm.
    """
    resolved = find_algorithm(image_or_name)
    if resolved is None:
        _, repository, _ = parse_image_uri(image_or_name)
        raise ValidationError(
            f"Training image {image_or_name!r} (repository {repository!r}) is not a built-in "
            f"algorithm; supported: {', '.join(ALGORITHM_NAMES)} (by name, or by the image URI "
            "that sagemaker.image_uris.retrieve returns in any region)",
            details={"allowed": list(ALGORITHM_NAMES)},
        )
    return resolved
