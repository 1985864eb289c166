"""Fixtures for the catalog: a catalog service over a local lake, and the book's data sets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lakeworks.core.context import RequestContext
from lakeworks.core.settings import Settings, load_settings
from lakeworks.db import Database
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.service import LakeService
from lakeworks.schemas.catalog import QueryExecution

BOOK = Path("/work/shared/datasets/book")


def open_catalog(settings: Settings) -> tuple[CatalogService, Database]:
    """A started catalog service (and its database) for ``settings``."""
    db = Database(settings.database_url)
    db.upgrade()
    catalog = CatalogService(settings, db, LakeService(settings, db))
    catalog.start()
    return catalog, db


@pytest.fixture
def ctx() -> RequestContext:
    """A caller with every scope."""
    return RequestContext.system()


@pytest.fixture
def reader() -> RequestContext:
    """A caller that may only read."""
    return RequestContext(principal="reader", scopes=frozenset({"read"}))


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[CatalogService]:
    """A catalog over a local lake under ``tmp_path``, with its background work started."""
    service, db = open_catalog(load_settings(home=tmp_path / "home"))
    try:
        yield service
    finally:
        service.close()
        service.lake.close()
        db.dispose()


@pytest.fixture
def lake(catalog: CatalogService) -> LakeService:
    """The catalog's lake."""
    return catalog.lake


@pytest.fixture
def book(catalog: CatalogService, ctx: RequestContext) -> str:
    """Bucket ``book`` holding the book's data sets, one folder each, and a ``results`` bucket."""
    lake = catalog.lake
    lake.create_bucket(ctx, "book")
    lake.create_bucket(ctx, "results")
    lake.upload_file(ctx, BOOK / "wine-canvas.csv", "s3://book/raw/wine/wine-canvas.csv")
    lake.upload_file(ctx, BOOK / "house-prices.csv", "s3://book/raw/houses/house-prices.csv")
    lake.upload_file(
        ctx, BOOK / "winemag-data_first150k.csv.gz", "s3://book/raw/winemag/part-0.csv.gz"
    )
    return "book"


@pytest.fixture
def wait_query(catalog: CatalogService, ctx: RequestContext) -> Callable[[str], QueryExecution]:
    """Wait (up to 60 s) until a query has finished; return its execution."""

    def wait(query_id: str) -> QueryExecution:
        deadline = time.monotonic() + 60
        while True:
            execution = catalog.queries.get_query_execution(ctx, query_id)
            if execution.status.state in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return execution
            if time.monotonic() > deadline:
                raise TimeoutError(f"query {query_id} still {execution.status.state}")
            time.sleep(0.02)

    return wait
