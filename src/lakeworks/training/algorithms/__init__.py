"""The built-in algorithms: one module per algorithm, all following :class:`base.Algorithm`.

``algorithm_class(name)`` imports an algorithm's module on first use; ``load_model(model_dir)``
loads any saved model. Shared concepts live in their own modules: ``hyperparameters`` (the
declarative spec), ``evaluation`` (quality measures), ``optimizers`` (SGD/Adam/RMSProp).
"""

from lakeworks.training.algorithms.base import (
    ALGORITHMS,
    Algorithm,
    NotFittedError,
    algorithm_class,
    load_model,
)

__all__ = ["ALGORITHMS", "Algorithm", "NotFittedError", "algorithm_class", "load_model"]
