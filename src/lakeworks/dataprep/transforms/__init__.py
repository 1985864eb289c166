"""Transforms: one contract (``fit`` → learned state, ``transform`` → frame), one registry.

Look transforms up by name with :func:`transform_class` or :func:`create_transform`; the
registry loads every transform module on first use.
"""

from lakeworks.dataprep.transforms.base import (
    Transform,
    create_transform,
    describe_transforms,
    register,
    transform_class,
    transform_names,
)

__all__ = [
    "Transform",
    "create_transform",
    "describe_transforms",
    "register",
    "transform_class",
    "transform_names",
]
