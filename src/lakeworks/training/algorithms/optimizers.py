"""First-order optimizers for the numpy learners (Linear Learner, factorization machines, MLP).

Each optimizer updates a list of parameter arrays in place from their gradients, with one
learning rate per array (so the bias can learn faster than the weights, as AWS's ``bias_lr_mult``
and factorization machines' ``bias_lr``/``linear_lr``/``factors_lr`` ask).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Optimizer", "make_optimizer"]


class Optimizer:
    """``sgd`` (with momentum), ``adam`` or ``rmsprop`` over a fixed list of parameters.

    Args:
        kind: ``"sgd"``, ``"adam"`` or ``"rmsprop"``.
        params: The arrays to update in place.
        momentum: SGD momentum.
        beta_1: Adam's first-moment decay.
        beta_2: Adam's (and RMSProp's) second-moment decay.
        eps: Added to denominators.
        clip: When set, gradients are clipped to ``[-clip, clip]`` first.
    """

    def __init__(
        self,
        kind: str,
        params: Sequence[np.ndarray],
        *,
        momentum: float = 0.0,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        eps: float = 1e-8,
        clip: float | None = None,
    ) -> None:
        if kind not in ("sgd", "adam", "rmsprop"):
            raise ValueError(f"unknown optimizer {kind!r}")
        self.kind = kind
        self.params = list(params)
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.eps = eps
        self.clip = clip
        self.steps = 0
        self._first = [np.zeros_like(p) for p in self.params]
        self._second = [np.zeros_like(p) for p in self.params]

    def step(self, grads: Sequence[np.ndarray], rates: Sequence[float]) -> None:
        """Apply one update with ``grads`` (same shapes as the parameters) and ``rates``."""
        self.steps += 1
        for index, (param, grad, rate) in enumerate(zip(self.params, grads, rates, strict=True)):
            if self.clip is not None:
                grad = np.clip(grad, -self.clip, self.clip)
            if self.kind == "sgd":
                velocity = self._first[index]
                velocity *= self.momentum
                velocity -= rate * grad
                param += velocity
            elif self.kind == "adam":
                first, second = self._first[index], self._second[index]
                first *= self.beta_1
                first += (1 - self.beta_1) * grad
                second *= self.beta_2
                second += (1 - self.beta_2) * grad * grad
                first_hat = first / (1 - self.beta_1**self.steps)
                second_hat = second / (1 - self.beta_2**self.steps)
                param -= rate * first_hat / (np.sqrt(second_hat) + self.eps)
            else:
                second = self._second[index]
                second *= self.beta_2
                second += (1 - self.beta_2) * grad * grad
                param -= rate * grad / (np.sqrt(second) + self.eps)


def make_optimizer(kind: str, params: Sequence[np.ndarray], **options: float | None) -> Optimizer:
    """An :class:`Optimizer`; ``options`` left as None take the optimizer's defaults."""
    given = {name: value for name, value in options.items() if value is not None}
    return Optimizer(kind, params, **given)
