"""Point-in-time training sets through the native SDK (in-process server), and the online store
on PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from lakeworks import Client
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.testing import temporary_server

BASE = datetime(2024, 5, 1, tzinfo=UTC)


def _group(client: Client, name: str, online: bool = True) -> None:
    client.feature_groups.create(
        feature_group_name=name,
        record_identifier_feature_name="user",
        event_time_feature_name="ts",
        feature_definitions=[
            {"feature_name": "user", "feature_type": "Integral"},
            {"feature_name": "ts", "feature_type": "Fractional"},
            {"feature_name": "score", "feature_type": "Fractional"},
        ],
        online_store_config={"enable_online_store": online},
        offline_store_config={"s3_storage_config": {"s3_uri": "s3://features/offline"}},
    )


def _put(client: Client, name: str, user: int, hours: float, score: float) -> None:
    at = (BASE + timedelta(hours=hours)).timestamp()
    client.feature_groups.put_record(name, {"user": user, "ts": at, "score": score})


def test_training_set_takes_features_as_of_each_label(tmp_path: Path) -> None:
    with temporary_server(tmp_path / "home") as server:
        client = Client(http=server.client)
        client.buckets.create("features")
        _group(client, "scores")
        # user 1's score changes at hours 0, 10 and 20; user 2's at hour 5; written out of order
        for user, hours, score in ((1, 10, 0.5), (1, 0, 0.1), (2, 5, 0.7), (1, 20, 0.9)):
            _put(client, "scores", user, hours, score)
        assert client.feature_groups.get_record("scores", "1") == {
            "user": "1",
            "ts": str((BASE + timedelta(hours=20)).timestamp()),
            "score": "0.9",
        }
        labels = pd.DataFrame(
            {
                "user": [1, 1, 1, 1, 2, 2],
                "at": [BASE + timedelta(hours=h) for h in (-1, 0, 9.99, 15, 4, 30)],
                "churned": [0, 0, 1, 1, 0, 1],
            }
        )
        built = client.feature_groups.build_dataset(
            labels, ["scores"], record_identifier="user", event_time="at"
        )
        assert built.columns == ["user", "at", "churned", "score"]
        assert [row[3] for row in built.rows] == [None, 0.1, 0.1, 0.5, None, 0.7]

        # labels from the lake, a second group, a feature filter and output to the lake
        _group(client, "clicks", online=False)
        _put(client, "clicks", 1, 12, 42.0)
        csv = "user,at\n1,2024-05-01T11:00:00Z\n1,2024-05-01T13:00:00+00:00\n"
        client.objects.put("features", "labels/l.csv", csv.encode())
        written = client.feature_groups.build_dataset(
            "s3://features/labels/",
            ["scores", "clicks"],
            record_identifier="user",
            event_time="at",
            features=["score"],
            output_uri="s3://features/sets/train.parquet",
        )
        assert written.row_count == 2
        assert written.columns == ["user", "at", "scores__score", "clicks__score"]
        data = client.objects.get("features", "sets/train.parquet")
        table = pq.read_table(io.BytesIO(data))
        assert table.column("scores__score").to_pylist() == [0.5, 0.5]
        assert table.column("clicks__score").to_pylist() == [None, 42.0]

        bad: list[tuple[dict[str, Any], type[Exception], str]] = [
            ({"feature_groups": ["absent"]}, NotFound, "absent"),
            ({"event_time": "when"}, ValidationError, "no column 'when'"),
            ({"features": ["nope"]}, ValidationError, "Unknown features nope"),
        ]
        for change, error, named in bad:
            arguments: dict[str, Any] = {
                "feature_groups": ["scores"],
                "record_identifier": "user",
                "event_time": "at",
                **change,
            }
            with pytest.raises(error, match=named):
                client.feature_groups.build_dataset([{"user": 1, "at": 0}], **arguments)


@pytest.mark.postgres
def test_online_store_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    with temporary_server(tmp_path / "home", database={"url": postgres_url}) as server:
        client = Client(http=server.client)
        client.buckets.create("features")
        _group(client, "pg-scores")
        _put(client, "pg-scores", 7, 2, 0.2)
        _put(client, "pg-scores", 7, 1, 0.1)  # older: not applied online
        assert client.feature_groups.get_record("pg-scores", "7")["score"] == "0.2"
        assert client.feature_groups.get_record("pg-scores", "8") == {}
        server.platform.features.delete_record(
            RequestContext.system(),
            "pg-scores",
            "7",
            str((BASE + timedelta(hours=3)).timestamp()),
        )
        assert client.feature_groups.get_record("pg-scores", "7") == {}
        assert [g.feature_group_name for g in client.feature_groups.list()] == ["pg-scores"]
        client.feature_groups.delete("pg-scores")
        with pytest.raises(NotFound):
            client.feature_groups.get("pg-scores")
