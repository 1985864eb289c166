"""The feature store: ``client.feature_groups`` — create, get, list, delete, put/get records,
and point-in-time training sets (``build_dataset``)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lakeworks.schemas.common import Page
from lakeworks.schemas.features import (
    DatasetBuild,
    DatasetInfo,
    FeatureGroupCreate,
    FeatureGroupInfo,
    FeatureGroupSummary,
)
from lakeworks.sdk._http import Transport, request_body

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FeatureGroups"]

_API = "/api/v1/feature-groups"


def _path(name: str) -> str:
    return f"{_API}/{quote(name, safe='')}"


class FeatureGroups:
    """Feature groups (SageMaker Feature Store) and training sets built from them."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, spec: FeatureGroupCreate | dict[str, Any] | None = None, **fields: Any
    ) -> FeatureGroupInfo:
        """Create a feature group (CreateFeatureGroup's fields, snake_case or SageMaker's).

        Raises:
            AlreadyExists: The name is taken.
            ValidationError: Inconsistent definitions, no store, a missing bucket.
        """
        body = request_body(FeatureGroupCreate, spec, **fields)
        return self._t.model(FeatureGroupInfo, "POST", _API, json=body)

    def get(self, name: str) -> FeatureGroupInfo:
        """One feature group (DescribeFeatureGroup)."""
        return self._t.model(FeatureGroupInfo, "GET", _path(name))

    def list(self, *, name_contains: str | None = None) -> builtins.list[FeatureGroupSummary]:
        """Feature groups, newest first (the first 100)."""
        params = {"name_contains": name_contains} if name_contains else None
        return self._t.model(Page[FeatureGroupSummary], "GET", _API, params=params).items

    def delete(self, name: str) -> None:
        """Delete a feature group (offline files and catalog table stay)."""
        self._t.request("DELETE", _path(name))

    def put_record(self, name: str, record: dict[str, Any]) -> None:
        """Write a record given as ``{feature: value}`` (values sent as strings)."""
        body = {k: str(v) for k, v in record.items()}
        self._t.request("PUT", f"{_path(name)}/records", json=body)

    def get_record(
        self, name: str, record_id: str, *, feature_names: builtins.list[str] | None = None
    ) -> dict[str, str]:
        """The latest record as ``{feature: value-as-string}``; ``{}`` when there is none."""
        params = {"feature_name": feature_names} if feature_names else None
        path = f"{_path(name)}/records/{quote(record_id, safe='')}"
        answer: dict[str, str] = self._t.request("GET", path, params=params).json()
        return answer

    def build_dataset(
        self,
        labels: pd.DataFrame | builtins.list[dict[str, Any]] | str,
        feature_groups: builtins.list[str],
        *,
        record_identifier: str,
        event_time: str,
        features: builtins.list[str] | None = None,
        include_deleted: bool = False,
        output_uri: str | None = None,
    ) -> DatasetInfo:
        """A point-in-time-correct training set: each label row joined to every group's
        features as of the label's event time (no later value leaks in).

        Args:
            labels: Label rows (a DataFrame or a list of dicts), or an ``s3://`` URI of a
                Parquet/CSV object or prefix in the lake.
            feature_groups: The groups to join, in order.
            record_identifier: The labels' record identifier column.
            event_time: The labels' event time column (ISO 8601 or epoch seconds).
            features: Feature names to keep (all when omitted).
            include_deleted: Ignore deletions (take the last value written before them).
            output_uri: Also write the result as Parquet there (rows are then not returned).

        Raises:
            NotFound: An unknown group.
            ValidationError: Missing label columns, unknown features, a group without
                offline store.
        """
        fields: dict[str, Any] = {
            "feature_groups": feature_groups,
            "record_identifier": record_identifier,
            "event_time": event_time,
            "features": features,
            "include_deleted": include_deleted,
            "output_uri": output_uri,
        }
        if isinstance(labels, str):
            fields["labels_uri"] = labels
        elif isinstance(labels, builtins.list):
            fields["labels"] = labels
        else:
            fields["labels"] = _frame_rows(labels)
        body = request_body(DatasetBuild, None, **fields)
        return self._t.model(DatasetInfo, "POST", "/api/v1/feature-store/datasets", json=body)


def _frame_rows(frame: pd.DataFrame) -> builtins.list[dict[str, Any]]:
    """A DataFrame's rows as JSON-ready dicts (times as ISO 8601)."""
    import json

    rows: builtins.list[dict[str, Any]] = json.loads(
        frame.to_json(orient="records", date_format="iso", date_unit="us")
    )
    return rows
