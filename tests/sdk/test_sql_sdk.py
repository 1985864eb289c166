"""``client.sql``, ``client.queries`` and ``client.workgroups`` against the in-process server."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer
from lakeworks.testing.datasets import book_dataset

WINE = book_dataset("wine-canvas.csv")


@pytest.fixture(scope="module")
def wine(server: InProcessServer) -> Client:
    """A client whose server has the wine data crawled into database ``sqlwine``."""
    client = Client(http=server.client, home=server.settings.home)
    client.buckets.create("sql-data")
    client.buckets.create("sql-results")
    client.objects.put("sql-data", "raw/wine/wine.csv", WINE)
    client.catalog.databases.create("sqlwine")
    client.crawlers.create("sql-wine", database_name="sqlwine", targets=["s3://sql-data/raw/"])
    client.crawlers.start("sql-wine")
    crawler = client.crawlers.wait("sql-wine", timeout=120)
    assert crawler.last_crawl is not None
    assert crawler.last_crawl.status == "SUCCEEDED", crawler.last_crawl
    return client


def test_sql_equals_pandas(wine: Client) -> None:
    # As in Athena, an empty field of a string column is '' (pandas reads it as NaN).
    query = (
        "SELECT country, avg(price) AS price FROM wine WHERE country <> '' "
        "GROUP BY country ORDER BY country"
    )
    table = wine.sql(query, database="sqlwine")
    assert isinstance(table, pa.Table)
    assert table.schema.field("price").type == pa.float64()
    got = table.to_pandas().set_index("country")["price"]
    frame = pd.read_csv(WINE)
    expected = frame.groupby("country")["price"].mean().sort_index()
    assert list(got.index) == list(expected.index)
    pd.testing.assert_series_equal(got, expected, check_names=False, rtol=1e-9)

    as_frame = wine.sql_frame("SELECT count(*) AS n FROM sqlwine.wine")
    assert isinstance(as_frame, pd.DataFrame)
    assert as_frame["n"].tolist() == [len(frame)]


def test_sql_rows_without_pyarrow(wine: Client) -> None:
    rows = wine.sql_rows(
        "SELECT country, DATE '2024-01-02' AS d FROM wine WHERE country = 'US' LIMIT 1",
        database="sqlwine",
    )
    assert rows.columns == [("country", "string"), ("d", "date32[day]")]
    assert rows.rows == [["US", "2024-01-02"]]


def test_sql_errors(wine: Client) -> None:
    with pytest.raises(ValidationError) as syntax:
        wine.sql("SELEC country FROM wine", database="sqlwine")
    assert syntax.value.status == 400
    assert syntax.value.aws_code == "InvalidRequestException"
    assert 'syntax error at or near "SELEC"' in syntax.value.message
    assert "LINE 1" in syntax.value.message  # the position, with a caret under it
    with pytest.raises(NotFound, match="no_such_db"):
        wine.sql("SELECT 1", database="no_such_db")
    with pytest.raises(ValidationError, match="nowhere"):
        wine.sql_rows("SELECT * FROM nowhere", database="sqlwine")
    with pytest.raises(ValidationError, match="query"):
        wine.sql("")  # refused before a request: a query needs at least one character


def test_query_lifecycle(wine: Client) -> None:
    query_id = wine.queries.start(
        "SELECT country, count(*) AS n FROM wine GROUP BY country ORDER BY n DESC, country",
        database="sqlwine",
        output_location="s3://sql-results/q/",
    )
    execution = wine.queries.wait(query_id, timeout=120)
    assert execution.status.state == "SUCCEEDED", execution.status
    assert execution.statistics.data_scanned_in_bytes > 0
    pages = list(wine.queries.results(query_id, page_size=10))
    assert len(pages) > 1
    header = [d.var_char_value for d in pages[0].result_set.rows[0].data]
    assert header == ["country", "n"]
    rows = list(wine.queries.rows(query_id, page_size=7))
    counts = pd.read_csv(WINE)["country"].value_counts(dropna=False)
    assert rows[0] == ["US", str(counts["US"])]
    assert sum(int(n or 0) for _, n in rows) == counts.sum()
    assert query_id in [q.query_execution_id for q in wine.queries.list()]
    wine.queries.stop(query_id)  # already finished: nothing changes
    assert wine.queries.get(query_id).status.state == "SUCCEEDED"


def test_failed_query_is_returned_not_raised(wine: Client) -> None:
    query_id = wine.queries.start(
        "SELEC 1", database="sqlwine", output_location="s3://sql-results/q/"
    )
    execution = wine.queries.wait(query_id, timeout=120)
    assert execution.status.state == "FAILED"
    assert "SELEC" in (execution.status.state_change_reason or "")
    with pytest.raises(ValidationError, match="FAILED"):
        list(wine.queries.rows(query_id))


def test_query_bad_input(wine: Client) -> None:
    with pytest.raises(ValidationError, match="output location"):
        wine.queries.start("SELECT 1")
    with pytest.raises(NotFound):
        wine.queries.get("no-such-query")
    with pytest.raises(NotFound):
        wine.queries.wait("no-such-query", timeout=5)
    with pytest.raises(ValidationError, match="client_request_token"):
        wine.queries.start("SELECT 1", output_location="s3://x/", client_request_token="short")


def test_workgroups(wine: Client) -> None:
    made = wine.workgroups.create(
        "sdk-team",
        output_location="s3://sql-results/team/",
        bytes_scanned_cutoff_per_query=10_000_000,
        description="team",
    )
    assert made.configuration.result_configuration is not None
    assert made.configuration.result_configuration.output_location == "s3://sql-results/team/"
    assert [w.name for w in wine.workgroups.list()][:1] == ["primary"]
    with pytest.raises(AlreadyExists):
        wine.workgroups.create("sdk-team")
    with pytest.raises(ValidationError, match="bytes_scanned_cutoff_per_query"):
        wine.workgroups.create("small", bytes_scanned_cutoff_per_query=5)
    query_id = wine.queries.start("SELECT 1 AS one", workgroup="sdk-team")
    done = wine.queries.wait(query_id, timeout=120)
    assert done.work_group == "sdk-team"
    assert list(wine.queries.rows(query_id)) == [["1"]]
    assert wine.workgroups.update("sdk-team", state="DISABLED").state == "DISABLED"
    wine.workgroups.delete("sdk-team")
    with pytest.raises(NotFound):
        wine.workgroups.get("sdk-team")
    with pytest.raises(ValidationError):
        wine.workgroups.delete("primary")
