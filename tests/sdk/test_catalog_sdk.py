"""``client.catalog`` and ``client.crawlers`` against the in-process server."""

from __future__ import annotations

import pytest

from lakeworks.core.errors import AlreadyExists, NotFound, ResourceInUse, ValidationError
from lakeworks.sdk.client import Client
from lakeworks.testing.datasets import book_dataset

EVENTS = {
    "name": "Events",
    "table_type": "EXTERNAL_TABLE",
    "storage_descriptor": {
        "columns": [{"name": "id", "type": "bigint"}],
        "location": "s3://sdk-cat/events/",
        "serde_info": {"serialization_library": "org.openx.data.jsonserde.JsonSerDe"},
    },
    "partition_keys": [{"name": "day", "type": "string"}],
    "parameters": {"classification": "json"},
}


def test_databases_tables_versions_and_partitions(client: Client) -> None:
    db = client.catalog.databases.create("SdkCat", description="first")
    assert db.name == "sdkcat"
    assert db.description == "first"
    assert "sdkcat" in [d.name for d in client.catalog.databases.list()]
    assert client.catalog.databases.update("sdkcat", description="second").description == "second"
    assert client.catalog.databases.get("sdkcat").description == "second"

    table = client.catalog.tables.create("sdkcat", EVENTS)
    assert (table.name, table.version_id) == ("events", "0")
    assert table.storage_descriptor is not None
    assert [c.name for c in table.storage_descriptor.columns] == ["id"]
    assert [t.name for t in client.catalog.tables.list("sdkcat", expression="ev.*")] == ["events"]
    assert list(client.catalog.tables.list("sdkcat", expression="nomatch.*")) == []

    updated = client.catalog.tables.update("sdkcat", EVENTS, description="v2")
    assert (updated.description, updated.version_id) == ("v2", "1")
    versions = list(client.catalog.tables.versions("sdkcat", "events"))
    assert [v.version_id for v in versions] == ["1", "0"]
    assert client.catalog.tables.version("sdkcat", "events", "0").table.description is None

    result = client.catalog.partitions.create(
        "sdkcat", "events", [{"values": ["2024-01-01"]}, {"values": ["a", "b"]}]
    )
    assert [e.partition_values for e in result.errors] == [["a", "b"]]
    listed = client.catalog.partitions.list("sdkcat", "events", expression="day >= '2024'")
    assert [p.values for p in listed] == [["2024-01-01"]]

    client.catalog.tables.delete("sdkcat", "events")
    with pytest.raises(NotFound):
        client.catalog.tables.get("sdkcat", "events")
    client.catalog.databases.delete("sdkcat")
    with pytest.raises(NotFound, match="sdkcat"):
        client.catalog.databases.get("sdkcat")


def test_catalog_bad_input(client: Client) -> None:
    client.catalog.databases.create("sdkbad")
    with pytest.raises(AlreadyExists):
        client.catalog.databases.create("sdkbad")
    with pytest.raises(ValidationError) as bad_name:
        client.catalog.databases.create("bad name")
    assert bad_name.value.status == 400
    # Caught here, before a request: an unknown field is named in the message.
    with pytest.raises(ValidationError, match="bogus"):
        client.catalog.tables.create("sdkbad", {**EVENTS, "bogus": 1})
    bad_type = {**EVENTS, "partition_keys": [{"name": "d", "type": "nope"}]}
    with pytest.raises(ValidationError):
        client.catalog.tables.create("sdkbad", bad_type)
    assert list(client.catalog.tables.list("sdkbad")) == []  # nothing was written
    with pytest.raises(NotFound):
        list(client.catalog.tables.list("no-such-db"))
    with pytest.raises(NotFound):
        client.catalog.tables.create("no-such-db", EVENTS)
    client.catalog.tables.create("sdkbad", EVENTS)
    with pytest.raises(ValidationError):
        list(client.catalog.partitions.list("sdkbad", "events", expression="day ="))
    with pytest.raises(ValidationError, match="partition_input_list"):
        client.catalog.partitions.create("sdkbad", "events", [])


def test_crawl_the_wine_data(client: Client) -> None:
    client.buckets.create("sdk-crawl")
    client.objects.put("sdk-crawl", "raw/wine/wine.csv", book_dataset("wine-canvas.csv"))
    client.catalog.databases.create("sdkwine")
    crawler = client.crawlers.create(
        "sdk-wine",
        database_name="sdkwine",
        targets=["s3://sdk-crawl/raw/"],
        schedule="cron(0 3 * * ? *)",
    )
    assert crawler.state == "READY"
    assert crawler.targets.s3_targets[0].path == "s3://sdk-crawl/raw/"
    assert "sdk-wine" in [c.name for c in client.crawlers.list()]

    started = client.crawlers.start("sdk-wine")
    assert started.crawler_name == "sdk-wine"
    done = client.crawlers.wait("sdk-wine", timeout=120)
    assert done.state == "READY"
    assert done.last_crawl is not None
    assert done.last_crawl.status == "SUCCEEDED"
    assert client.crawlers.crawls("sdk-wine")[0].tables_created == ["wine"]
    assert client.crawlers.metrics("sdk-wine").tables_created == 1
    table = client.catalog.tables.get("sdkwine", "wine")
    assert table.storage_descriptor is not None
    types = {c.name: c.type for c in table.storage_descriptor.columns}
    assert types["price"] == "double"
    assert types["country"] == "string"

    assert client.crawlers.update("sdk-wine", schedule=None).schedule is None
    with pytest.raises(ResourceInUse):
        client.crawlers.stop("sdk-wine")  # not running
    client.crawlers.delete("sdk-wine")
    with pytest.raises(NotFound):
        client.crawlers.get("sdk-wine")
    assert client.catalog.tables.get("sdkwine", "wine").name == "wine"  # its tables stay


def test_crawler_bad_input(client: Client) -> None:
    client.catalog.databases.create("sdkcrawlbad")
    with pytest.raises(ValidationError):
        client.crawlers.create(
            "bad-schedule",
            database_name="sdkcrawlbad",
            targets=["s3://x/"],
            schedule="daily",
        )
    with pytest.raises(ValidationError, match="bogus"):
        client.crawlers.create("c", database_name="sdkcrawlbad", targets=["s3://x/"], bogus=1)
    assert "bad-schedule" not in [c.name for c in client.crawlers.list()]
    for call in (client.crawlers.get, client.crawlers.start, client.crawlers.metrics):
        with pytest.raises(NotFound):
            call("no-such-crawler")
    with pytest.raises(NotFound):
        client.crawlers.wait("no-such-crawler", timeout=5)
