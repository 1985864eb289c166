"""What DescribeEndpoint and ListEndpoints show, built from an endpoint's row and live view.

Pure conversions (no database): :func:`endpoint_summary`, :func:`endpoint_info` (variants with
their current and desired values, capture status, the deployment in progress), and the helpers
the endpoint operations use to store request parts (:func:`dump`) and to carry variant
properties over an update (:func:`retain`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lakeworks.hosting.deployments import pending_summary
from lakeworks.hosting.fleet_keeper import EndpointView
from lakeworks.hosting.store import EndpointRecord
from lakeworks.hosting.variants import VariantState, summaries
from lakeworks.schemas.hosting import (
    DataCaptureConfig,
    DataCaptureConfigSummary,
    EndpointInfo,
    EndpointSummary,
    Tag,
)
from lakeworks.schemas.hosting_deployments import PendingDeploymentSummary

__all__ = ["dump", "endpoint_info", "endpoint_summary", "retain"]


def dump(model: Any) -> dict[str, Any] | None:
    """A request part as stored in the endpoint's row (None stays None)."""
    return None if model is None else dict(model.model_dump(mode="json"))


def retain(new: VariantState, old: dict[str, Any], excluded: set[str]) -> VariantState:
    """``new`` with the old variant's desired weight and instance count, except ``excluded``."""
    return replace(
        new,
        desired_weight=new.desired_weight
        if "DesiredWeight" in excluded
        else float(old["desired_weight"]),
        desired_instance_count=new.desired_instance_count
        if "DesiredInstanceCount" in excluded
        else int(old["desired_instance_count"]),
    )


def endpoint_summary(record: EndpointRecord) -> EndpointSummary:
    """One row of ListEndpoints."""
    return EndpointSummary(
        endpoint_name=record.name,
        endpoint_arn=record.arn,
        creation_time=record.creation_time,
        last_modified_time=record.last_modified_time,
        endpoint_status=record.status,
    )


def _pending(record: EndpointRecord, view: EndpointView | None) -> PendingDeploymentSummary | None:
    """The deployment in progress, while an update is (None otherwise)."""
    if record.pending_config is None or record.status not in ("Updating", "RollingBack"):
        return None
    shift = view.shift if view else None
    fleet = view.fleets.get(shift.fleet_id) if view and shift else None
    states = [VariantState.from_json(s) for s in record.pending_variants or []]
    ready = fleet.ready_counts() if fleet else {}
    return pending_summary(record.pending_config, states, shift, ready, record.last_modified_time)


def endpoint_info(record: EndpointRecord, view: EndpointView | None) -> EndpointInfo:
    """DescribeEndpoint of ``record``; ``view`` (the engine's, if any) shows a deployment."""
    production, shadows = summaries([VariantState.from_json(s) for s in record.variants])
    capture = None
    if record.data_capture:
        config = DataCaptureConfig(**record.data_capture)
        capture = DataCaptureConfigSummary(
            enable_capture=config.enable_capture,
            capture_status="Started" if config.enable_capture else "Stopped",
            current_sampling_percentage=config.initial_sampling_percentage,
            destination_s3_uri=config.destination_s3_uri,
            kms_key_id=config.kms_key_id,
        )
    return EndpointInfo(
        **endpoint_summary(record).model_dump(),
        endpoint_config_name=record.config_name,
        production_variants=production,
        shadow_production_variants=shadows or None,
        data_capture_config=capture,
        async_inference_config=record.async_inference,
        last_deployment_config=record.deployment_config,
        pending_deployment_summary=_pending(record, view),
        failure_reason=record.failure_reason,
        tags=[Tag(key=k, value=v) for k, v in record.tags.items()],
    )
