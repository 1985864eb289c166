"""Model handlers: what a model server calls to answer one invocation of one container.

A handler loads its model once and then turns request bodies into response bodies. Two kinds:
:mod:`.builtin` (the artifacts of Lakeworks' built-in algorithms, answering as their AWS
counterparts do) and :mod:`.script` (``inference.py`` with ``model_fn``/``input_fn``/
``predict_fn``/``output_fn``, as SageMaker's framework containers call them). A handler raises a
4xx :class:`~lakeworks.core.errors.LakeworksError` for a bad request; anything else is the
model's failure (500).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Handler", "Reply"]


@dataclass(frozen=True)
class Reply:
    """A handler's answer: the body, its content type and optional custom attributes."""

    body: bytes
    content_type: str
    custom_attributes: str | None = None


class Handler(Protocol):
    """Answers invocations of one loaded model."""

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None, attributes: str | None
    ) -> Reply:
        """Answer one request.

        Args:
            body: The request body.
            content_type: Its Content-Type (may be None).
            accept: The wanted response type (None or ``*/*``: the handler's default).
            attributes: ``X-Amzn-SageMaker-Custom-Attributes``, passed through.

        Raises:
            LakeworksError: A 4xx for input the model cannot read.
        """
        ...
