"""The data catalog and its crawlers: ``client.catalog`` and ``client.crawlers``.

``client.catalog.databases``, ``.tables`` and ``.partitions`` are Glue's Data Catalog (table
versions hang off ``.tables``); ``client.crawlers`` fills it from the lake::

    c.catalog.databases.create("wine")
    c.crawlers.create("wine", database_name="wine", targets=["s3://data/raw/"])
    c.crawlers.start("wine")
    c.crawlers.wait("wine")
    [t.name for t in c.catalog.tables.list("wine")]
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from lakeworks.schemas.catalog import (
    BatchCreatePartitionRequest,
    BatchCreatePartitionResult,
    Crawl,
    Crawler,
    CrawlerInput,
    CrawlerMetrics,
    CrawlerUpdate,
    Database,
    DatabaseInput,
    Partition,
    PartitionInput,
    Table,
    TableInput,
    TableVersion,
)
from lakeworks.schemas.common import Page
from lakeworks.sdk._http import Transport, paginate, request_body
from lakeworks.sdk.catalog_grants import Grants
from lakeworks.sdk.waiters import poll_intervals

__all__ = ["Catalog", "Crawlers", "Databases", "Partitions", "Tables"]

_DATABASES = "/api/v1/catalog/databases"
_CRAWLERS = "/api/v1/crawlers"


def _segment(name: str) -> str:
    return quote(name, safe="")


def _database_path(database: str) -> str:
    return f"{_DATABASES}/{_segment(database)}"


def _table_path(database: str, table: str) -> str:
    return f"{_database_path(database)}/tables/{_segment(table)}"


def _crawler_path(name: str) -> str:
    return f"{_CRAWLERS}/{_segment(name)}"


class Databases:
    """Databases of the catalog (names are stored lower-cased)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        name: str,
        *,
        description: str | None = None,
        location_uri: str | None = None,
        parameters: Mapping[str, str] | None = None,
    ) -> Database:
        """Create a database.

        Raises:
            ValidationError: The name is not 1-255 letters, digits, ``_`` and ``-``.
            AlreadyExists: A database of that name exists.
        """
        body = request_body(
            DatabaseInput,
            name=name,
            description=description,
            location_uri=location_uri,
            parameters=dict(parameters or {}),
        )
        return self._t.model(Database, "POST", _DATABASES, json=body)

    def list(self, *, page_size: int | None = None) -> Iterator[Database]:
        """Iterate over every database, by name."""

        def page(token: str | None) -> tuple[list[Database], str | None]:
            params = {"next_token": token, "max_results": page_size}
            got = self._t.model(Page[Database], "GET", _DATABASES, params=params)
            return got.items, got.next_token

        return paginate(page)

    def get(self, name: str) -> Database:
        """Describe a database.

        Raises:
            NotFound: No database has that name.
        """
        return self._t.model(Database, "GET", _database_path(name))

    def update(
        self, name: str, spec: DatabaseInput | Mapping[str, Any] | None = None, **fields: Any
    ) -> Database:
        """Replace a database's description, location and parameters.

        Args:
            name: The database.
            spec: A :class:`DatabaseInput` or a mapping of its fields (``name`` defaults to
                ``name``).
            fields: Fields as keyword arguments; they override ``spec``'s.

        Raises:
            NotFound: No database has that name.
        """
        body = request_body(DatabaseInput, {"name": name, **_fields_of(spec)}, **fields)
        return self._t.model(Database, "PUT", _database_path(name), json=body)

    def delete(self, name: str) -> None:
        """Delete a database with its tables.

        Raises:
            NotFound: No database has that name.
        """
        self._t.request("DELETE", _database_path(name))


class Tables:
    """Tables and views of a database, with their versions."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, database: str, spec: TableInput | Mapping[str, Any] | None = None, **fields: Any
    ) -> Table:
        """Create a table or view.

        Args:
            database: The database.
            spec: A :class:`TableInput` or a mapping of its fields.
            fields: Fields as keyword arguments (``name=..., storage_descriptor=...``).

        Raises:
            NotFound: No such database.
            ValidationError: A field is invalid (an unknown column type, a bad name …).
            AlreadyExists: A table of that name exists.
        """
        body = request_body(TableInput, spec, **fields)
        return self._t.model(Table, "POST", f"{_database_path(database)}/tables", json=body)

    def list(
        self, database: str, *, expression: str | None = None, page_size: int | None = None
    ) -> Iterator[Table]:
        """Iterate over a database's tables.

        Args:
            database: The database.
            expression: A regular expression the table names must match.
            page_size: Tables per request.

        Raises:
            NotFound: No such database.
        """
        path = f"{_database_path(database)}/tables"

        def page(token: str | None) -> tuple[list[Table], str | None]:
            params = {"expression": expression, "next_token": token, "max_results": page_size}
            got = self._t.model(Page[Table], "GET", path, params=params)
            return got.items, got.next_token

        return paginate(page)

    def get(self, database: str, table: str) -> Table:
        """Describe a table.

        Raises:
            NotFound: No such database or table.
        """
        return self._t.model(Table, "GET", _table_path(database, table))

    def update(
        self,
        database: str,
        spec: TableInput | Mapping[str, Any] | None = None,
        *,
        skip_archive: bool = False,
        **fields: Any,
    ) -> Table:
        """Replace a table's definition; the previous one is kept as a version.

        Args:
            database: The database.
            spec: The whole new :class:`TableInput` (its ``name`` names the table).
            skip_archive: Do not keep the previous definition as a version.
            fields: Fields as keyword arguments; they override ``spec``'s.

        Raises:
            NotFound: No such database or table.
        """
        body = request_body(TableInput, spec, **fields)
        return self._t.model(
            Table,
            "PUT",
            _table_path(database, body["name"]),
            json=body,
            params={"skip_archive": "true" if skip_archive else None},
        )

    def delete(self, database: str, table: str) -> None:
        """Delete a table with its versions and partitions.

        Raises:
            NotFound: No such database or table.
        """
        self._t.request("DELETE", _table_path(database, table))

    def versions(self, database: str, table: str) -> Iterator[TableVersion]:
        """Iterate over a table's versions, newest first.

        Raises:
            NotFound: No such database or table.
        """
        path = f"{_table_path(database, table)}/versions"

        def page(token: str | None) -> tuple[list[TableVersion], str | None]:
            got = self._t.model(Page[TableVersion], "GET", path, params={"next_token": token})
            return got.items, got.next_token

        return paginate(page)

    def version(self, database: str, table: str, version_id: str) -> TableVersion:
        """One version of a table's definition.

        Raises:
            NotFound: No such database, table or version.
        """
        path = f"{_table_path(database, table)}/versions/{_segment(version_id)}"
        return self._t.model(TableVersion, "GET", path)


class Partitions:
    """Partitions of a table."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(
        self, database: str, table: str, *, expression: str | None = None
    ) -> Iterator[Partition]:
        """Iterate over a table's partitions.

        Args:
            database: The database.
            table: The table.
            expression: A filter on partition keys, e.g. ``year='2024' AND month IN ('01')``.

        Raises:
            NotFound: No such database or table.
            ValidationError: The expression does not parse; the message says where.
        """
        path = f"{_table_path(database, table)}/partitions"

        def page(token: str | None) -> tuple[list[Partition], str | None]:
            params = {"expression": expression, "next_token": token}
            got = self._t.model(Page[Partition], "GET", path, params=params)
            return got.items, got.next_token

        return paginate(page)

    def create(
        self,
        database: str,
        table: str,
        partitions: Sequence[PartitionInput | Mapping[str, Any]],
    ) -> BatchCreatePartitionResult:
        """Create up to 100 partitions at once.

        Returns:
            The partitions that failed, each with its reason (empty when all were created).

        Raises:
            NotFound: No such database or table.
            ValidationError: No partitions, more than 100, or a malformed one.
        """
        items = [
            p.model_dump(exclude_unset=True) if isinstance(p, PartitionInput) else p
            for p in partitions
        ]
        body = request_body(BatchCreatePartitionRequest, partition_input_list=items)
        path = f"{_table_path(database, table)}/partitions"
        return self._t.model(BatchCreatePartitionResult, "POST", path, json=body)


class Catalog:
    """The data catalog: ``.databases``, ``.tables`` (and their versions), ``.partitions``,
    ``.grants`` (Lake Formation permissions)."""

    def __init__(self, transport: Transport) -> None:
        self.databases = Databases(transport)
        self.tables = Tables(transport)
        self.partitions = Partitions(transport)
        self.grants = Grants(transport)


class Crawlers:
    """Crawlers: they read the lake and create or update the catalog's tables."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        name: str,
        *,
        database_name: str,
        targets: Sequence[str | Mapping[str, Any]],
        **fields: Any,
    ) -> Crawler:
        """Create a crawler.

        Args:
            name: The crawler's name.
            database_name: The database its tables go to.
            targets: ``s3://bucket/prefix/`` paths, or :class:`~lakeworks.schemas.catalog.
                S3Target` mappings (``{"path", "exclusions", "sample_size"}``).
            fields: Other :class:`CrawlerInput` fields: ``schedule`` (``cron(...)``),
                ``table_prefix``, ``schema_change_policy``, ``description``, ``tags``.

        Raises:
            ValidationError: A field is invalid (a bad schedule, an unknown field …).
            AlreadyExists: A crawler of that name exists.
        """
        s3_targets = [{"path": t} if isinstance(t, str) else dict(t) for t in targets]
        body = request_body(
            CrawlerInput,
            name=name,
            database_name=database_name,
            targets={"s3_targets": s3_targets},
            **fields,
        )
        return self._t.model(Crawler, "POST", _CRAWLERS, json=body)

    def list(self) -> Iterator[Crawler]:
        """Iterate over every crawler, by name."""

        def page(token: str | None) -> tuple[list[Crawler], str | None]:
            got = self._t.model(Page[Crawler], "GET", _CRAWLERS, params={"next_token": token})
            return got.items, got.next_token

        return paginate(page)

    def get(self, name: str) -> Crawler:
        """Describe a crawler, its state and how its last crawl ended.

        Raises:
            NotFound: No crawler has that name.
        """
        return self._t.model(Crawler, "GET", _crawler_path(name))

    def update(self, name: str, **fields: Any) -> Crawler:
        """Change a crawler: fields given keep the others; ``None`` clears one (``schedule``).

        Raises:
            NotFound: No crawler has that name.
            ValidationError: A field is invalid.
        """
        body = request_body(CrawlerUpdate, **fields)
        return self._t.model(Crawler, "PATCH", _crawler_path(name), json=body)

    def delete(self, name: str) -> None:
        """Delete a crawler (the tables it made stay).

        Raises:
            NotFound: No crawler has that name.
        """
        self._t.request("DELETE", _crawler_path(name))

    def start(self, name: str) -> Crawl:
        """Start a crawl in the background; :meth:`wait` for it to end.

        Raises:
            NotFound: No crawler has that name.
            ResourceInUse: The crawler is running already.
        """
        return self._t.model(Crawl, "POST", f"{_crawler_path(name)}/start")

    def stop(self, name: str) -> None:
        """Ask the running crawl to stop.

        Raises:
            NotFound: No crawler has that name.
            ResourceInUse: The crawler is not running.
        """
        self._t.request("POST", f"{_crawler_path(name)}/stop")

    def metrics(self, name: str) -> CrawlerMetrics:
        """Run times and table counts of a crawler.

        Raises:
            NotFound: No crawler has that name.
        """
        return self._t.model(CrawlerMetrics, "GET", f"{_crawler_path(name)}/metrics")

    def crawls(self, name: str, *, max_results: int | None = None) -> builtins.list[Crawl]:
        """The latest crawls with their reports (tables touched, problems found), newest first.

        Raises:
            NotFound: No crawler has that name.
        """
        got = self._t.model(
            Page[Crawl],
            "GET",
            f"{_crawler_path(name)}/crawls",
            params={"max_results": max_results},
        )
        return got.items

    def wait(
        self, name: str, *, timeout: float | None = None, max_interval: float = 1.0
    ) -> Crawler:
        """Wait until the crawler is ``READY`` again (its crawl ended).

        Returns:
            The crawler; ``last_crawl.status`` says how the crawl ended (a failed crawl is
            returned, not raised).

        Raises:
            TimeoutError: Still crawling after ``timeout`` seconds.
            NotFound: No crawler has that name.
        """
        start = time.monotonic()
        for pause in poll_intervals(most=max_interval):
            crawler = self.get(name)
            if crawler.state == "READY":
                return crawler
            elapsed = time.monotonic() - start
            if timeout is not None and elapsed >= timeout:
                raise TimeoutError(f"Crawler {name} is still {crawler.state} after {timeout:g}s")
            time.sleep(pause if timeout is None else max(0.0, min(pause, timeout - elapsed)))
        raise AssertionError("unreachable: poll_intervals never ends")  # pragma: no cover


def _fields_of(spec: Any) -> dict[str, Any]:
    if spec is None:
        return {}
    if hasattr(spec, "model_dump"):
        data: dict[str, Any] = spec.model_dump(exclude_unset=True)
        return data
    return dict(spec)
