"""Model hosting: ``client.models``, ``client.endpoint_configs`` and ``client.endpoints``.

Example::

    c.models.create(model_name="m", primary_container={"image": "xgboost",
                                                       "model_data_url": "s3://models/m.tar.gz"})
    c.endpoint_configs.create(endpoint_config_name="cfg", production_variants=[
        {"variant_name": "main", "model_name": "m", "initial_instance_count": 1}])
    c.endpoints.create("ep", "cfg")
    c.endpoints.wait("ep")
    answer = c.endpoints.invoke("ep", b"0.1,0.2,0.3,0.4", content_type="text/csv")
    answer.body, answer.invoked_variant

Each method is one route of ``server/rest/hosting.py`` (the same hosting service calls the
SageMaker front door makes). Request bodies take snake_case names or SageMaker's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.hosting import (
    EndpointConfigCreate,
    EndpointConfigInfo,
    EndpointConfigSummary,
    EndpointCreate,
    EndpointInfo,
    EndpointMetrics,
    EndpointSummary,
    EndpointUpdate,
    EndpointWeightsUpdate,
    ModelCreate,
    ModelInfo,
    ModelSummary,
)
from lakeworks.schemas.hosting_async import (
    AsyncInvocationAccepted,
    AsyncInvocationCreate,
    AsyncInvocationInfo,
)
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.waiters import poll_intervals

__all__ = [
    "TRANSITIONAL_ENDPOINT_STATUSES",
    "EndpointConfigs",
    "EndpointLogs",
    "Endpoints",
    "InvocationResult",
    "Models",
]

_API = "/api/v1"
#: Endpoint statuses that change by themselves; :meth:`Endpoints.wait` waits them out.
TRANSITIONAL_ENDPOINT_STATUSES = frozenset(
    {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
)
SortOrder = Literal["Ascending", "Descending"]


def _path(collection: str, name: str) -> str:
    return f"{_API}/{collection}/{quote(name, safe='')}"


def _listing(
    fetch: Any, params: dict[str, Any], cls: type[Page[Any]], collection: str
) -> Iterator[Any]:
    def page(token: str | None) -> tuple[list[Any], str | None]:
        got = fetch(cls, "GET", f"{_API}/{collection}", params={**params, "next_token": token})
        return got.items, got.next_token

    return paginate(page)


def _list_params(
    name_contains: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
    sort_by: str | None,
    sort_order: SortOrder | None,
) -> dict[str, Any]:
    return {
        "name_contains": name_contains,
        "creation_time_after": created_after.isoformat() if created_after else None,
        "creation_time_before": created_before.isoformat() if created_before else None,
        "sort_by": sort_by,
        "sort_order": sort_order,
        "max_results": 100,
    }


class Models:
    """Models (SageMaker's): containers and the artifacts they serve."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, spec: ModelCreate | Mapping[str, Any] | None = None, **fields: Any
    ) -> ModelInfo:
        """Create a model (CreateModel's fields, snake_case or SageMaker's).

        Raises:
            ValidationError: A field is missing, unknown or out of range.
            ResourceInUse: A model of that name exists.
        """
        body = request_body(ModelCreate, spec, **fields)
        return self._t.model(ModelInfo, "POST", f"{_API}/models", json=body)

    def get(self, name: str) -> ModelInfo:
        """Describe a model.

        Raises:
            NotFound: No such model.
        """
        return self._t.model(ModelInfo, "GET", _path("models", name))

    def list(
        self,
        *,
        name_contains: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        sort_by: Literal["Name", "CreationTime"] | None = None,
        sort_order: SortOrder | None = None,
    ) -> Iterator[ModelSummary]:
        """Iterate over models, newest first unless sorted otherwise."""
        params = _list_params(name_contains, created_after, created_before, sort_by, sort_order)
        return _listing(self._t.model, params, Page[ModelSummary], "models")

    def delete(self, name: str) -> None:
        """Delete a model (endpoints using it keep serving).

        Raises:
            NotFound: No such model.
        """
        self._t.request("DELETE", _path("models", name))


class EndpointConfigs:
    """Endpoint configs: production variants, shadow variants, data capture."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, spec: EndpointConfigCreate | Mapping[str, Any] | None = None, **fields: Any
    ) -> EndpointConfigInfo:
        """Create an endpoint config (CreateEndpointConfig's fields).

        Raises:
            ValidationError: A field is missing, unknown or out of range, or a variant names
                an unknown model.
            ResourceInUse: An endpoint config of that name exists.
        """
        body = request_body(EndpointConfigCreate, spec, **fields)
        return self._t.model(EndpointConfigInfo, "POST", f"{_API}/endpoint-configs", json=body)

    def get(self, name: str) -> EndpointConfigInfo:
        """Describe an endpoint config.

        Raises:
            NotFound: No such endpoint config.
        """
        return self._t.model(EndpointConfigInfo, "GET", _path("endpoint-configs", name))

    def list(
        self,
        *,
        name_contains: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        sort_by: Literal["Name", "CreationTime"] | None = None,
        sort_order: SortOrder | None = None,
    ) -> Iterator[EndpointConfigSummary]:
        """Iterate over endpoint configs, newest first unless sorted otherwise."""
        params = _list_params(name_contains, created_after, created_before, sort_by, sort_order)
        return _listing(self._t.model, params, Page[EndpointConfigSummary], "endpoint-configs")

    def delete(self, name: str) -> None:
        """Delete an endpoint config (endpoints using it keep serving).

        Raises:
            NotFound: No such endpoint config.
        """
        self._t.request("DELETE", _path("endpoint-configs", name))


@dataclass(frozen=True)
class InvocationResult:
    """An endpoint's answer to one invocation.

    Attributes:
        body: The model's response body, as it sent it.
        content_type: Its media type.
        invoked_variant: The production variant that served the request.
        custom_attributes: ``X-Amzn-SageMaker-Custom-Attributes`` the model sent back.
        headers: Every response header (lower-case names).
    """

    body: bytes
    content_type: str | None
    invoked_variant: str | None
    custom_attributes: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode()


@dataclass(frozen=True)
class EndpointLogs:
    """A slice of an endpoint instance's model-server output.

    Attributes:
        instance: The instance the output is from.
        offset: The byte offset the slice starts at.
        data: The output.
    """

    instance: str
    offset: int
    data: str

    @property
    def next_offset(self) -> int:
        """The offset to read on from."""
        return self.offset + len(self.data.encode())


class Endpoints:
    """Real-time endpoints: create, describe, list, update, delete, wait, invoke, metrics, logs."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        endpoint_name: str | None = None,
        endpoint_config_name: str | None = None,
        spec: EndpointCreate | Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> EndpointInfo:
        """Create an endpoint: ``Creating`` until its instances answer (see :meth:`wait`).

        Raises:
            ValidationError: Bad fields, or an unknown endpoint config.
            ResourceInUse: An endpoint of that name exists.
        """
        if endpoint_name is not None:
            fields["endpoint_name"] = endpoint_name
        if endpoint_config_name is not None:
            fields["endpoint_config_name"] = endpoint_config_name
        body = request_body(EndpointCreate, spec, **fields)
        return self._t.model(EndpointInfo, "POST", f"{_API}/endpoints", json=body)

    def get(self, name: str) -> EndpointInfo:
        """Describe an endpoint: status, variants' current and desired weights and counts.

        Raises:
            NotFound: No such endpoint.
        """
        return self._t.model(EndpointInfo, "GET", _path("endpoints", name))

    def list(
        self,
        *,
        status: str | None = None,
        name_contains: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        sort_by: Literal["Name", "CreationTime", "Status"] | None = None,
        sort_order: SortOrder | None = None,
    ) -> Iterator[EndpointSummary]:
        """Iterate over endpoints, newest first unless sorted otherwise.

        Raises:
            ValidationError: An unknown status (the message lists the allowed ones).
        """
        params = _list_params(name_contains, created_after, created_before, sort_by, sort_order)
        params["status_equals"] = status
        return _listing(self._t.model, params, Page[EndpointSummary], "endpoints")

    def update(
        self,
        name: str,
        endpoint_config_name: str | None = None,
        spec: EndpointUpdate | Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> EndpointInfo:
        """Move the endpoint to another endpoint config (UpdateEndpoint's fields); the old fleet
        serves until the new one is healthy.

        Raises:
            NotFound: No such endpoint.
            ValidationError: Unknown endpoint config, or the endpoint is not InService.
        """
        if endpoint_config_name is not None:
            fields["endpoint_config_name"] = endpoint_config_name
        body = request_body(EndpointUpdate, spec, **fields)
        path = f"{_path('endpoints', name)}/update"
        return self._t.model(EndpointInfo, "POST", path, json=body)

    def update_weights_and_capacities(
        self, name: str, desired_weights_and_capacities: Sequence[Mapping[str, Any]]
    ) -> EndpointInfo:
        """Set variants' desired weights and instance counts, e.g.
        ``[{"variant_name": "main", "desired_instance_count": 2}]``.

        Raises:
            NotFound: No such endpoint.
            ValidationError: An unknown variant, or a bad weight or count.
        """
        body = request_body(
            EndpointWeightsUpdate,
            desired_weights_and_capacities=[dict(item) for item in desired_weights_and_capacities],
        )
        path = f"{_path('endpoints', name)}/weights-and-capacities"
        return self._t.model(EndpointInfo, "POST", path, json=body)

    def delete(self, name: str) -> None:
        """Delete an endpoint: ``Deleting`` until its instances stopped, then gone.

        Raises:
            NotFound: No such endpoint.
        """
        self._t.request("DELETE", _path("endpoints", name))

    def wait(self, name: str, *, timeout: float | None = 600.0) -> EndpointInfo:
        """Wait until the endpoint is no longer Creating, Updating … (InService or Failed).

        Args:
            name: The endpoint.
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Returns:
            The endpoint's settled state: check ``endpoint_status`` and ``failure_reason``.

        Raises:
            TimeoutError: Still changing after ``timeout`` seconds.
            NotFound: No such endpoint (or it was deleted while waiting).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pauses = poll_intervals()
        while True:
            endpoint = self.get(name)
            if endpoint.endpoint_status not in TRANSITIONAL_ENDPOINT_STATUSES:
                return endpoint
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(
                    f"Endpoint {name} is still {endpoint.endpoint_status} after {timeout:g}s"
                )
            time.sleep(next(pauses))

    def invoke(
        self,
        name: str,
        body: bytes | str,
        *,
        content_type: str | None = None,
        accept: str | None = None,
        target_variant: str | None = None,
        target_model: str | None = None,
        custom_attributes: str | None = None,
        inference_id: str | None = None,
    ) -> InvocationResult:
        """Send one request to the endpoint's model, as InvokeEndpoint does.

        Args:
            name: The endpoint.
            body: The request body (a ``str`` is sent as UTF-8).
            content_type: Its media type (``text/csv``, ``application/json`` …).
            accept: The media type wanted back.
            target_variant: Send to this production variant rather than by weight.
            target_model: The model archive to use on a multi-model endpoint.
            custom_attributes: Passed to the model as is.
            inference_id: An id recorded with captured data.

        Raises:
            ValidationError: No such endpoint (SageMaker Runtime's 400), or a bad target.
            ModelError: The model answered with an error (``details`` holds its status).
            ModelUnavailable: The model server died or did not answer in time.
            PayloadTooLarge: The body is over 6 MB.
        """
        headers = {
            "Content-Type": content_type,
            "Accept": accept,
            "X-Amzn-SageMaker-Target-Variant": target_variant,
            "X-Amzn-SageMaker-Target-Model": target_model,
            "X-Amzn-SageMaker-Custom-Attributes": custom_attributes,
            "X-Amzn-SageMaker-Inference-Id": inference_id,
        }
        content = body.encode() if isinstance(body, str) else body
        response = self._t.request(
            "POST",
            f"{_path('endpoints', name)}/invocations",
            content=content,
            headers={k: v for k, v in headers.items() if v is not None},
        )
        got = {k.lower(): v for k, v in response.headers.items()}
        return InvocationResult(
            body=response.content,
            content_type=got.get("content-type"),
            invoked_variant=got.get("x-amzn-invoked-production-variant"),
            custom_attributes=got.get("x-amzn-sagemaker-custom-attributes"),
            headers=got,
        )

    def invoke_async(
        self, name: str, input_location: str, **fields: Any
    ) -> AsyncInvocationAccepted:
        """Queue one invocation of an async endpoint, as InvokeEndpointAsync does.

        Args:
            name: The endpoint (its config has an ``AsyncInferenceConfig``).
            input_location: ``s3://`` URI of the request payload.
            fields: ``content_type``, ``accept``, ``custom_attributes``, ``inference_id``,
                ``request_ttl_seconds``, ``invocation_timeout_seconds``.

        Returns:
            The InferenceId and where the output (or failure) will be written.

        Raises:
            ValidationError: Not an async endpoint, a missing input, out-of-range values.
        """
        body = request_body(AsyncInvocationCreate, None, input_location=input_location, **fields)
        path = f"{_path('endpoints', name)}/async-invocations"
        return self._t.model(AsyncInvocationAccepted, "POST", path, json=body)

    def describe_async_invocation(self, inference_id: str) -> AsyncInvocationInfo:
        """Pending, InProgress, Completed or Failed (with the reason) and where the result is.

        Raises:
            NotFound: No async invocation has that id.
        """
        path = f"{_API}/async-invocations/{quote(inference_id, safe='')}"
        return self._t.model(AsyncInvocationInfo, "GET", path)

    def metrics(self, name: str) -> EndpointMetrics:
        """Invocations, errors and latencies per variant (and model) since the server started.

        Raises:
            NotFound: No such endpoint.
        """
        return self._t.model(EndpointMetrics, "GET", f"{_path('endpoints', name)}/metrics")

    def logs(
        self, name: str, *, variant: str | None = None, offset: int = 0, limit: int = 65536
    ) -> EndpointLogs:
        """Output of the model server of the first instance of ``variant`` (the first variant
        when omitted), from byte ``offset``.

        Raises:
            NotFound: No such endpoint or variant, or no instance runs.
        """
        params: dict[str, Any] = {"variant": variant, "offset": offset, "limit": limit}
        response = self._t.request("GET", f"{_path('endpoints', name)}/logs", params=params)
        instance = response.headers.get("x-lakeworks-instance", "")
        return EndpointLogs(instance=instance, offset=offset, data=response.text)
