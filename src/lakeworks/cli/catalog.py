"""``lakeworks catalog`` (databases, tables) and ``lakeworks crawlers`` (fill the catalog)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from lakeworks.cli.output import (
    Column,
    OutputFormat,
    OutputOption,
    emit,
    emit_record,
    emit_rows,
    jsonable,
)
from lakeworks.cli.server import connect
from lakeworks.core.errors import ValidationError

if TYPE_CHECKING:
    from lakeworks.schemas.catalog import Crawler, Table

__all__ = ["app", "crawlers_app"]

app = typer.Typer(help="The data catalog: databases and tables.", no_args_is_help=True)
crawlers_app = typer.Typer(help="Crawlers: fill the catalog from the lake.", no_args_is_help=True)

DatabaseArgument = Annotated[str, typer.Argument(help="The database.", show_default=False)]
CrawlerArgument = Annotated[str, typer.Argument(help="The crawler's name.", show_default=False)]

_DATABASE_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("DESCRIPTION", "description"),
    ("LOCATION", "location_uri"),
    ("CREATED", "create_time"),
]
_TABLE_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("TYPE", "table_type"),
    ("CLASSIFICATION", "classification"),
    ("LOCATION", "location"),
    ("PARTITION KEYS", "partition_keys"),
    ("UPDATED", "update_time"),
]
_CRAWLER_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("DATABASE", "database_name"),
    ("STATE", "state"),
    ("LAST CRAWL", "last_status"),
    ("TARGETS", "targets"),
    ("SCHEDULE", "schedule"),
]
_CRAWLER_FIELDS = [
    "name",
    "database_name",
    "state",
    "targets",
    "schedule",
    "table_prefix",
    "last_status",
    "last_error",
    "last_start",
    "creation_time",
]


def _table_row(table: Table) -> dict[str, Any]:
    """The fields a person wants to see of a table, flattened for one table row."""
    sd = table.storage_descriptor
    return {
        "name": table.name,
        "database": table.database_name,
        "table_type": table.table_type,
        "classification": table.parameters.get("classification"),
        "location": sd.location if sd else None,
        "partition_keys": [key.name for key in table.partition_keys],
        "version_id": table.version_id,
        "description": table.description,
        "update_time": jsonable(table.update_time),
    }


def _crawler_row(crawler: Crawler) -> dict[str, Any]:
    last = crawler.last_crawl
    return {
        "name": crawler.name,
        "database_name": crawler.database_name,
        "state": crawler.state,
        "targets": [t.path for t in crawler.targets.s3_targets],
        "schedule": crawler.schedule.schedule_expression if crawler.schedule else None,
        "table_prefix": crawler.table_prefix,
        "last_status": last.status if last else None,
        "last_error": last.error_message if last else None,
        "last_start": jsonable(last.start_time) if last else None,
        "creation_time": jsonable(crawler.creation_time),
    }


def _split_table(database: str, table: str | None) -> tuple[str, str]:
    """``db table`` or ``db.table`` → ``(db, table)``."""
    if table is not None:
        return database, table
    db, dot, name = database.partition(".")
    if not dot or not db or not name:
        raise ValidationError(
            f"Name the table as DATABASE TABLE or DATABASE.TABLE, got {database!r}"
        )
    return db, name


# -- catalog ---------------------------------------------------------------------------------


@app.command()
def databases(output: OutputOption = OutputFormat.table) -> None:
    """List the catalog's databases."""
    with connect() as client:
        emit_rows(client.catalog.databases.list(), _DATABASE_COLUMNS, output)


@app.command("create-database")
def create_database(
    name: DatabaseArgument,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create a database (its name is stored lower-cased)."""
    with connect() as client:
        db = client.catalog.databases.create(name, description=description)
    emit(jsonable(db), output, f"create_database: {db.name}")


@app.command()
def tables(
    database: DatabaseArgument,
    match: Annotated[
        str | None, typer.Option("--match", help="Only tables whose name matches this regex.")
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List a database's tables and views."""
    with connect() as client:
        found = list(client.catalog.tables.list(database, expression=match))
    if output is OutputFormat.json:
        emit_rows(found, _TABLE_COLUMNS, output)
    else:
        emit_rows([_table_row(t) for t in found], _TABLE_COLUMNS, output)


@app.command()
def describe(
    database: Annotated[str, typer.Argument(help="DATABASE, or DATABASE.TABLE.")],
    table: Annotated[str | None, typer.Argument(help="The table.", show_default=False)] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """A table's definition: location, format, columns and partition keys."""
    db, name = _split_table(database, table)
    with connect() as client:
        found = client.catalog.tables.get(db, name)
    if output is OutputFormat.json:
        emit_record(found, output)
        return
    emit_record(_table_row(found), output)
    sd = found.storage_descriptor
    columns = [*(sd.columns if sd else []), *found.partition_keys]
    partition_keys = {key.name for key in found.partition_keys}
    typer.echo("")
    emit_rows(
        [
            {
                "name": c.name,
                "type": c.type,
                "partition": "yes" if c.name in partition_keys else "",
                "comment": c.comment,
            }
            for c in columns
        ],
        [("COLUMN", "name"), ("TYPE", "type"), ("PARTITION", "partition"), ("COMMENT", "comment")],
        output,
    )


# -- crawlers --------------------------------------------------------------------------------


@crawlers_app.command("create")
def crawler_create(
    name: CrawlerArgument,
    database: Annotated[
        str, typer.Option("--database", "-d", help="Database its tables go to.", show_default=False)
    ],
    target: Annotated[
        list[str],
        typer.Option(
            "--target", "-t", help="s3://bucket/prefix/ to crawl (repeatable).", show_default=False
        ),
    ],
    schedule: Annotated[
        str | None, typer.Option(help="Glue cron expression, e.g. 'cron(0 3 * * ? *)' (UTC).")
    ] = None,
    table_prefix: Annotated[str | None, typer.Option(help="Prefix of the tables' names.")] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Glob of keys to skip in every target (repeatable)."),
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create a crawler over one or more s3:// targets."""
    targets = [{"path": path, "exclusions": list(exclude or [])} for path in target]
    fields: dict[str, Any] = {"schedule": schedule, "table_prefix": table_prefix}
    with connect() as client:
        crawler = client.crawlers.create(
            name,
            database_name=database,
            targets=targets,
            **{k: v for k, v in fields.items() if v is not None},
        )
    _emit_crawler(crawler, output)


@crawlers_app.command("list")
def crawler_list(output: OutputOption = OutputFormat.table) -> None:
    """List crawlers with their state and how their last crawl ended."""
    with connect() as client:
        found = list(client.crawlers.list())
    if output is OutputFormat.json:
        emit_rows(found, _CRAWLER_COLUMNS, output)
    else:
        emit_rows([_crawler_row(c) for c in found], _CRAWLER_COLUMNS, output)


@crawlers_app.command("describe")
def crawler_describe(name: CrawlerArgument, output: OutputOption = OutputFormat.table) -> None:
    """A crawler's state, targets, schedule and last crawl."""
    with connect() as client:
        _emit_crawler(client.crawlers.get(name), output)


@crawlers_app.command("start")
def crawler_start(
    name: CrawlerArgument,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the crawl to end.")] = False,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="With --wait: give up after this many seconds.")
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Start a crawl (in the background, unless --wait)."""
    with connect() as client:
        crawl = client.crawlers.start(name)
        if wait:
            _finish(client.crawlers.wait(name, timeout=timeout), output)
            return
    emit(jsonable(crawl), output, f"start_crawler: {name} (crawl {crawl.crawl_id})")


@crawlers_app.command("stop")
def crawler_stop(name: CrawlerArgument, output: OutputOption = OutputFormat.table) -> None:
    """Ask the running crawl to stop."""
    with connect() as client:
        client.crawlers.stop(name)
    emit({"crawler": name, "stopping": True}, output, f"stop_crawler: {name}")


@crawlers_app.command("wait")
def crawler_wait(
    name: CrawlerArgument,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Give up after this many seconds (exit 1).")
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Wait until the crawler is READY again; exit 1 unless its last crawl SUCCEEDED."""
    with connect() as client:
        _finish(client.crawlers.wait(name, timeout=timeout), output)


@crawlers_app.command("delete")
def crawler_delete(name: CrawlerArgument, output: OutputOption = OutputFormat.table) -> None:
    """Delete a crawler (the tables it made stay)."""
    with connect() as client:
        client.crawlers.delete(name)
    emit({"crawler": name, "deleted": True}, output, f"delete_crawler: {name}")


def _emit_crawler(crawler: Crawler, output: OutputFormat) -> None:
    if output is OutputFormat.json:
        emit_record(crawler, output)
    else:
        emit_record(_crawler_row(crawler), output, _CRAWLER_FIELDS)


def _finish(crawler: Crawler, output: OutputFormat) -> None:
    """Print the crawler after a wait; exit 1 when its crawl did not succeed."""
    _emit_crawler(crawler, output)
    last = crawler.last_crawl
    if last is None or last.status != "SUCCEEDED":
        status = last.status if last else "never crawled"
        reason = f": {last.error_message}" if last and last.error_message else ""
        typer.echo(f"Error: crawler {crawler.name} {status}{reason}", err=True)
        raise typer.Exit(1)
