"""Glue and Athena through real boto3 clients against a real server process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

BOOK = Path("/work/shared/datasets/book")


@pytest.fixture(scope="module")
def glue(client: Any) -> Any:
    """A boto3 Glue client as admin."""
    return client("glue")


@pytest.fixture(scope="module")
def athena(client: Any) -> Any:
    """A boto3 Athena client as admin."""
    return client("athena")


@pytest.fixture(scope="module")
def wine(s3: Any) -> str:
    """The book's wine data in s3://glue-data/raw/wine/, and a results bucket."""
    s3.create_bucket(Bucket="glue-data")
    s3.create_bucket(Bucket="athena-results")
    s3.upload_file(str(BOOK / "wine-canvas.csv"), "glue-data", "raw/wine/wine-canvas.csv")
    return "s3://glue-data/raw/"


def code_of(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def wait_query(athena: Any, query_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=query_id)[
            "QueryExecution"
        ]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
        assert time.monotonic() < deadline, execution
        time.sleep(0.05)


def test_glue_catalog(glue: Any) -> None:
    glue.create_database(DatabaseInput={"Name": "Sales", "Description": "d"})
    assert glue.get_database(Name="sales")["Database"]["Description"] == "d"
    with pytest.raises(ClientError) as exists:
        glue.create_database(DatabaseInput={"Name": "sales"})
    assert code_of(exists) == "AlreadyExistsException"
    table_input = {
        "Name": "orders",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "total", "Type": "double"}],
            "Location": "s3://glue-data/orders/",
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                "Parameters": {"field.delim": ","},
            },
            "SortColumns": [],
            "SkewedInfo": {"SkewedColumnNames": []},
        },
        "PartitionKeys": [{"Name": "day", "Type": "string"}],
        "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
    }
    glue.create_table(DatabaseName="sales", TableInput=table_input)
    table = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"field.delim": ","}
    assert table["Parameters"]["skip.header.line.count"] == "1"
    assert table["VersionId"] == "0"
    assert table["CreateTime"].year >= 2024
    # a table read back can be sent to UpdateTable after dropping the read-only fields
    read_only = {"DatabaseName", "CreateTime", "UpdateTime", "CreatedBy", "CatalogId", "VersionId"}
    update = {
        k: v for k, v in table.items() if k not in read_only | {"IsRegisteredWithLakeFormation"}
    }
    update["Description"] = "v2"
    glue.update_table(DatabaseName="sales", TableInput=update)
    versions = glue.get_table_versions(DatabaseName="sales", TableName="orders")["TableVersions"]
    assert [v["VersionId"] for v in versions] == ["1", "0"]
    errors = glue.batch_create_partition(
        DatabaseName="sales",
        TableName="orders",
        PartitionInputList=[
            {
                "Values": [f"2024-01-0{d}"],
                "StorageDescriptor": {"Location": f"s3://glue-data/orders/day=2024-01-0{d}/"},
            }
            for d in (1, 2, 3)
        ]
        + [{"Values": ["x", "y"]}],
    )["Errors"]
    assert [e["ErrorDetail"]["ErrorCode"] for e in errors] == ["InvalidInputException"]
    paginator = glue.get_paginator("get_partitions")
    found = [
        p["Values"]
        for page in paginator.paginate(
            DatabaseName="sales",
            TableName="orders",
            Expression="day >= '2024-01-02'",
            PaginationConfig={"PageSize": 1},
        )
        for p in page["Partitions"]
    ]
    assert sorted(found) == [["2024-01-02"], ["2024-01-03"]]
    with pytest.raises(ClientError) as bad_filter:
        glue.get_partitions(DatabaseName="sales", TableName="orders", Expression="day =")
    assert code_of(bad_filter) == "InvalidInputException"
    with pytest.raises(ClientError) as missing:
        glue.get_table(DatabaseName="sales", Name="nope")
    assert code_of(missing) == "EntityNotFoundException"
    with pytest.raises(ClientError) as bad_name:
        glue.create_table(DatabaseName="sales", TableInput={"Name": "no spaces please"})
    assert code_of(bad_name) == "InvalidInputException"
    assert [t["Name"] for t in glue.get_tables(DatabaseName="sales")["TableList"]] == ["orders"]
    glue.delete_table(DatabaseName="sales", Name="orders")
    glue.delete_database(Name="sales")


def test_glue_crawler_then_athena(glue: Any, athena: Any, s3: Any, wine: str) -> None:
    glue.create_database(DatabaseInput={"Name": "book"})
    glue.create_crawler(
        Name="book-crawler",
        Role="arn:aws:iam::000000000000:role/glue",
        DatabaseName="book",
        Targets={"S3Targets": [{"Path": wine, "Exclusions": ["**/_tmp/**"]}]},
        RecrawlPolicy={"RecrawlBehavior": "CRAWL_EVERYTHING"},
        Schedule="cron(0 12 * * ? *)",
    )
    with pytest.raises(ClientError) as exists:
        glue.create_crawler(
            Name="book-crawler",
            Role="r",
            Targets={"S3Targets": [{"Path": wine}]},
            DatabaseName="book",
        )
    assert code_of(exists) == "AlreadyExistsException"
    glue.start_crawler(Name="book-crawler")
    deadline = time.monotonic() + 60
    while True:
        crawler = glue.get_crawler(Name="book-crawler")["Crawler"]
        if crawler["State"] == "READY" and "LastCrawl" in crawler:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert crawler["Schedule"] == {"ScheduleExpression": "cron(0 12 * * ? *)", "State": "SCHEDULED"}
    assert glue.list_crawlers()["CrawlerNames"] == ["book-crawler"]
    metrics = glue.get_crawler_metrics(CrawlerNameList=["book-crawler"])["CrawlerMetricsList"]
    assert metrics[0]["TablesCreated"] == 1
    glue.stop_crawler_schedule(CrawlerName="book-crawler")
    assert glue.get_crawler(Name="book-crawler")["Crawler"]["Schedule"]["State"] == "NOT_SCHEDULED"
    with pytest.raises(ClientError) as not_running:
        glue.stop_crawler(Name="book-crawler")
    assert code_of(not_running) == "CrawlerNotRunningException"
    crawls = glue.list_crawls(CrawlerName="book-crawler")["Crawls"]
    assert crawls[0]["State"] == "COMPLETED"

    started = athena.start_query_execution(
        QueryString="SELECT country, count(*) AS n, avg(price) AS price FROM wine "
        "GROUP BY country ORDER BY n DESC LIMIT 3",
        QueryExecutionContext={"Database": "book"},
        ResultConfiguration={"OutputLocation": "s3://athena-results/q/"},
    )
    execution = wait_query(athena, started["QueryExecutionId"])
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert execution["Statistics"]["DataScannedInBytes"] > 0
    assert execution["StatementType"] == "DML"
    results = athena.get_query_results(QueryExecutionId=started["QueryExecutionId"])
    rows = [[d.get("VarCharValue") for d in r["Data"]] for r in results["ResultSet"]["Rows"]]
    assert rows[0] == ["country", "n", "price"]
    assert rows[1][0] == "US"
    columns = results["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [
        ("country", "varchar"),
        ("n", "bigint"),
        ("price", "double"),
    ]
    key = f"q/{started['QueryExecutionId']}.csv"
    body = s3.get_object(Bucket="athena-results", Key=key)["Body"].read().decode()
    assert body.splitlines()[0] == '"country","n","price"'
    s3.head_object(Bucket="athena-results", Key=key + ".metadata")
    paginator = athena.get_paginator("get_query_results")
    paged = [
        r
        for page in paginator.paginate(
            QueryExecutionId=started["QueryExecutionId"], PaginationConfig={"PageSize": 2}
        )
        for r in page["ResultSet"]["Rows"]
    ]
    assert len(paged) == 4

    failed = athena.start_query_execution(
        QueryString="SELECT * FORM wine",
        QueryExecutionContext={"Database": "book"},
        ResultConfiguration={"OutputLocation": "s3://athena-results/q/"},
    )
    status = wait_query(athena, failed["QueryExecutionId"])["Status"]
    assert status["State"] == "FAILED"
    assert "syntax error" in status["StateChangeReason"]
    with pytest.raises(ClientError) as not_done:
        athena.get_query_results(QueryExecutionId=failed["QueryExecutionId"])
    assert code_of(not_done) == "InvalidRequestException"
    with pytest.raises(ClientError) as unknown:
        athena.get_query_execution(QueryExecutionId="nope")
    assert code_of(unknown) == "InvalidRequestException"
    with pytest.raises(ClientError) as no_output:
        athena.start_query_execution(QueryString="SELECT 1")
    assert code_of(no_output) == "InvalidRequestException"
    ids = athena.list_query_executions()["QueryExecutionIds"]
    assert ids[:2] == [failed["QueryExecutionId"], started["QueryExecutionId"]]
    batch = athena.batch_get_query_execution(QueryExecutionIds=[started["QueryExecutionId"], "x"])
    assert len(batch["QueryExecutions"]) == 1
    assert batch["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "x"
    tables = athena.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="book")
    assert [t["Name"] for t in tables["TableMetadataList"]] == ["wine"]
    assert [
        d["Name"] for d in athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]
    ] == ["book"]
    glue.delete_crawler(Name="book-crawler")


def test_athena_workgroups(athena: Any, wine: str) -> None:
    athena.create_work_group(
        Name="capped",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://athena-results/capped/"},
            "EnforceWorkGroupConfiguration": True,
            "BytesScannedCutoffPerQuery": 10_000_000,
        },
        Description="with a cutoff",
        Tags=[{"Key": "team", "Value": "data"}],
    )
    got = athena.get_work_group(WorkGroup="capped")["WorkGroup"]
    assert got["Configuration"]["BytesScannedCutoffPerQuery"] == 10_000_000
    assert got["State"] == "ENABLED"
    names = [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]
    assert names == ["capped", "primary"]
    with pytest.raises(ClientError) as exists:
        athena.create_work_group(Name="capped")
    assert code_of(exists) == "InvalidRequestException"
    started = athena.start_query_execution(QueryString="SELECT 1 AS one", WorkGroup="capped")
    execution = wait_query(athena, started["QueryExecutionId"])
    assert execution["ResultConfiguration"]["OutputLocation"].startswith(
        "s3://athena-results/capped/"
    )
    athena.update_work_group(
        WorkGroup="capped",
        ConfigurationUpdates={"RemoveBytesScannedCutoffPerQuery": True},
        State="DISABLED",
    )
    updated = athena.get_work_group(WorkGroup="capped")["WorkGroup"]
    assert updated["State"] == "DISABLED"
    assert "BytesScannedCutoffPerQuery" not in updated["Configuration"]
    with pytest.raises(ClientError) as disabled:
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="capped")
    assert code_of(disabled) == "InvalidRequestException"
    athena.delete_work_group(WorkGroup="capped")
    with pytest.raises(ClientError) as gone:
        athena.get_work_group(WorkGroup="capped")
    assert code_of(gone) == "InvalidRequestException"
