"""Errors of invocations, as SageMaker Runtime names them.

The resource operations use the core errors (``ValidationError``, ``NotFound`` …). Invocations add
the model's own failures: :class:`ModelError` (424) when the model answered with an error, and
:class:`ModelUnavailable` (a 5xx ``ModelError``) when its server died or did not answer in time.
"""

from __future__ import annotations

from typing import ClassVar

from lakeworks.core.errors import LakeworksError, ValidationError

__all__ = [
    "ModelError",
    "ModelUnavailable",
    "ServiceUnavailable",
    "endpoint_not_found",
    "model_error",
]


class ModelError(LakeworksError):
    """The model answered an invocation with an error (424, ``ModelError``).

    ``details`` carries ``OriginalStatusCode`` and ``OriginalMessage`` as AWS does.
    """

    status: ClassVar[int] = 424
    code: ClassVar[str] = "ModelError"


class ModelUnavailable(ModelError):
    """The model server crashed while handling the request, or did not answer in time (502)."""

    status: ClassVar[int] = 502


def endpoint_not_found(name: str, account_id: str) -> ValidationError:
    """The error SageMaker Runtime gives for an endpoint that does not exist."""
    return ValidationError(
        f"Endpoint {name} of account {account_id} not found.", aws_code="ValidationError"
    )


def model_error(status: int, message: str, container: str, endpoint: str) -> ModelError:
    """The 424 ``ModelError`` for a model that answered ``status`` with ``message``.

    The wording is AWS's (``Received client error (400) from primary with message "..."``),
    pointing at the endpoint's instance logs instead of CloudWatch.
    """
    side = "client" if 400 <= status < 500 else "server"
    text = message.strip() or "(no message)"
    return ModelError(
        f'Received {side} error ({status}) from {container} with message "{text}". See the '
        f"instance logs of endpoint {endpoint} (GET /api/v1/endpoints/{endpoint}/logs) for "
        "more information.",
        details={"OriginalStatusCode": status, "OriginalMessage": text},
    )


class ServiceUnavailable(LakeworksError):
    """No instance of the chosen variant is running right now (503)."""

    status: ClassVar[int] = 503
    code: ClassVar[str] = "ServiceUnavailable"
