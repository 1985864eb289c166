"""Crawlers (Glue semantics): create, get, list, update, delete, start, stop, schedules, metrics.

A crawl runs in a background thread of the server process (not as a job process): crawling
only reads object heads and Parquet footers through the lake and writes catalog rows, so it
needs neither isolation nor a job's working directory. Each crawl is recorded with its report
(tables created, updated and deleted, partitions, and every problem found with file and line).

Schedules (``cron(0 12 * * ? *)``) are run by a scheduler thread that the platform starts and
stops; :meth:`CrawlerService.run_due` is its one step, called with the time, so tests drive it
with any clock. A scheduled fire that finds its crawler still running is skipped, as in Glue.
"""

from __future__ import annotations

import logging
import statistics
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import (
    AlreadyExists,
    LakeworksError,
    NotFound,
    ResourceInUse,
    ValidationError,
)
from lakeworks.core.names import validate_tags
from lakeworks.lake.catalog import store
from lakeworks.lake.catalog.crawl import CrawlCancelled, CrawlFailed, CrawlReport, run_crawl
from lakeworks.lake.catalog.cron import parse_cron
from lakeworks.lake.catalog.names import catalog_name, crawler_name
from lakeworks.lake.catalog.service import check_location, page_limit
from lakeworks.lake.catalog.store import CrawlerRecord, CrawlRecord
from lakeworks.lake.objects import decode_token, encode_token
from lakeworks.schemas.catalog import (
    Crawl,
    Crawler,
    CrawlerInput,
    CrawlerMetrics,
    CrawlerTargets,
    CrawlerUpdate,
    LastCrawlInfo,
    Schedule,
    SchemaChangePolicy,
)
from lakeworks.schemas.common import Page

if TYPE_CHECKING:
    from lakeworks.lake.catalog.service import CatalogService

__all__ = ["CrawlerService"]

log = logging.getLogger("lakeworks.catalog")

_LAST_STATUS = {"COMPLETED": "SUCCEEDED", "STOPPED": "CANCELLED", "FAILED": "FAILED"}
_HISTORY = 10


def _no_crawler(name: str) -> NotFound:
    return NotFound(
        f"Crawler {name!r} not found", aws_code="EntityNotFoundException", details={"crawler": name}
    )


def _running(name: str) -> ResourceInUse:
    return ResourceInUse(
        f"Crawler {name!r} is running; wait for it to finish or stop it first",
        aws_code="CrawlerRunningException",
        details={"crawler": name},
    )


class CrawlerService:
    """Crawlers, their crawls and their schedules.

    Args:
        catalog: The catalog the crawlers write to (and its lake).
        clock: The time (tests pin it).
        scheduler_interval: Seconds between scheduler steps.
    """

    def __init__(
        self,
        catalog: CatalogService,
        *,
        clock: Callable[[], datetime] = utcnow,
        scheduler_interval: float = 1.0,
    ) -> None:
        self.catalog = catalog
        self.db = catalog.db
        self.clock = clock
        self.scheduler_interval = scheduler_interval
        self._mutex = threading.Lock()
        self._crawls: dict[str, tuple[threading.Thread, threading.Event]] = {}
        self._closing = threading.Event()
        self._scheduler: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """End crawls a previous server left running, then start the scheduler thread."""
        now = self.clock()
        with self.db.session() as session:
            for record in session.scalars(
                select(CrawlerRecord).where(CrawlerRecord.state != "READY")
            ):
                record.state = "READY"
            for crawl in session.scalars(select(CrawlRecord).where(CrawlRecord.state == "RUNNING")):
                crawl.state = "FAILED"
                crawl.end_time = now
                crawl.error_message = "The server stopped while the crawl was running"
        self._closing.clear()
        self._scheduler = threading.Thread(
            target=self._schedule_loop, name="lakeworks-crawler-scheduler", daemon=True
        )
        self._scheduler.start()

    def close(self) -> None:
        """Stop the scheduler and every running crawl, and wait for them."""
        self._closing.set()
        if self._scheduler is not None:
            self._scheduler.join(timeout=30)
            self._scheduler = None
        with self._mutex:
            crawls = list(self._crawls.values())
        for _, cancel in crawls:
            cancel.set()
        for thread, _ in crawls:
            thread.join(timeout=60)

    def _schedule_loop(self) -> None:
        while not self._closing.wait(self.scheduler_interval):
            try:
                self.run_due(self.clock())
            except Exception:  # the scheduler must outlive one bad step
                log.exception("crawler scheduler step failed")

    def run_due(self, now: datetime) -> list[str]:
        """Start every scheduled crawler whose time has come; return the ones started.

        Each due crawler's next fire time moves past ``now`` whether or not it started (a
        crawler still running skips that fire).
        """
        started: list[str] = []
        with self.db.session() as session:
            due = list(
                session.scalars(
                    select(CrawlerRecord).where(
                        CrawlerRecord.schedule_state == "SCHEDULED",
                        CrawlerRecord.next_run <= now,
                    )
                )
            )
            for record in due:
                schedule = parse_cron(record.schedule or "")
                record.next_run = schedule.next_after(now)
        for record in due:
            ctx = RequestContext(
                principal=f"crawler/{record.name}", scopes=frozenset({"read", "write"})
            )
            try:
                self._launch(ctx, record.name)
            except ResourceInUse:
                log.info("scheduled crawl of %s skipped: still running", record.name)
                continue
            except LakeworksError as exc:
                log.warning("scheduled crawl of %s failed to start: %s", record.name, exc.message)
                continue
            started.append(record.name)
        return started

    # -- shapes ----------------------------------------------------------------------------

    def _crawler(self, record: CrawlerRecord) -> Crawler:
        spec = record.spec
        with self.db.session() as session:
            latest = store.latest_crawls(session, record.name, 1)
        last = None
        elapsed = 0
        if latest:
            crawl = latest[0]
            if crawl.state == "RUNNING":
                elapsed = int((self.clock() - crawl.start_time).total_seconds() * 1000)
                previous = self._finished(record.name, 1)
                crawl = previous[0] if previous else None  # type: ignore[assignment]
            if crawl is not None and crawl.state in _LAST_STATUS:
                last = LastCrawlInfo(
                    status=_LAST_STATUS[crawl.state],
                    error_message=crawl.error_message,
                    log_group="/aws-glue/crawlers",
                    log_stream=record.name,
                    message_prefix=crawl.crawl_id,
                    start_time=crawl.start_time,
                )
        return Crawler(
            name=record.name,
            role=spec["role"],
            targets=CrawlerTargets.model_validate(spec["targets"]),
            database_name=spec["database_name"],
            description=spec.get("description"),
            schema_change_policy=SchemaChangePolicy.model_validate(spec["schema_change_policy"]),
            state=record.state,
            table_prefix=spec.get("table_prefix"),
            schedule=Schedule(schedule_expression=record.schedule, state=record.schedule_state)
            if record.schedule
            else None,
            crawl_elapsed_time=elapsed,
            creation_time=record.creation_time,
            last_updated=record.last_updated,
            last_crawl=last,
            version=record.version,
        )

    def _finished(self, name: str, limit: int) -> list[CrawlRecord]:
        with self.db.session() as session:
            rows = store.latest_crawls(session, name, limit + 1)
        return [r for r in rows if r.state != "RUNNING"][:limit]

    @staticmethod
    def _crawl(record: CrawlRecord) -> Crawl:
        return Crawl(
            crawl_id=record.crawl_id,
            crawler_name=record.crawler_name,
            state=record.state,
            start_time=record.start_time,
            end_time=record.end_time,
            error_message=record.error_message,
            **record.report,
        )

    def _require(self, name: str) -> CrawlerRecord:
        with self.db.session() as session:
            record = session.get(CrawlerRecord, name)
        if record is None:
            raise _no_crawler(name)
        return record

    # -- definitions -----------------------------------------------------------------------

    @staticmethod
    def _check_spec(database_name: str, targets: CrawlerTargets) -> str:
        for target in targets.s3_targets:
            check_location(target.path, "crawler target")
        return catalog_name(database_name, "database")

    def create_crawler(self, ctx: RequestContext, spec: CrawlerInput) -> Crawler:
        """Create a crawler (Glue's CreateCrawler); with a schedule it is SCHEDULED at once.

        Raises:
            ValidationError: Bad name, target, schedule or tags (``InvalidInputException``).
            AlreadyExists: ``AlreadyExistsException``.
        """
        ctx.require("write")
        name = crawler_name(spec.name)
        database = self._check_spec(spec.database_name, spec.targets)
        validate_tags(spec.tags)
        schedule = parse_cron(spec.schedule) if spec.schedule else None
        now = self.clock()
        body = spec.model_dump(mode="json", exclude={"name", "schedule", "tags"})
        body["database_name"] = database
        record = CrawlerRecord(
            name=name,
            spec=body,
            schedule=schedule.expression if schedule else None,
            schedule_state="SCHEDULED" if schedule else "NOT_SCHEDULED",
            next_run=schedule.next_after(now) if schedule else None,
            state="READY",
            version=1,
            creation_time=now,
            last_updated=now,
            tags=dict(spec.tags),
        )
        exists = AlreadyExists(
            f"Crawler {name!r} already exists", aws_code="AlreadyExistsException"
        )
        try:
            with self.db.session() as session:
                if session.get(CrawlerRecord, name) is not None:
                    raise exists
                session.add(record)
        except IntegrityError:
            raise exists from None
        return self._crawler(record)

    def get_crawler(self, ctx: RequestContext, name: str) -> Crawler:
        """A crawler with its state and last crawl (Glue's GetCrawler).

        Raises:
            NotFound: ``EntityNotFoundException``.
        """
        ctx.require("read")
        return self._crawler(self._require(name))

    def list_crawlers(
        self, ctx: RequestContext, *, next_token: str | None = None, max_results: int = 100
    ) -> Page[Crawler]:
        """Crawlers by name (Glue's GetCrawlers; ListCrawlers gives just the names)."""
        ctx.require("read")
        limit = page_limit(max_results)
        after = str(decode_token(next_token, "after")["after"]) if next_token else ""
        with self.db.session() as session:
            records = [r for r in store.list_crawlers(session) if r.name > after]
        page = records[:limit]
        token = encode_token({"after": page[-1].name}) if len(records) > limit else None
        return Page(items=[self._crawler(r) for r in page], next_token=token)

    def update_crawler(self, ctx: RequestContext, name: str, update: CrawlerUpdate) -> Crawler:
        """Change a crawler (Glue's UpdateCrawler); omitted fields keep their values.

        Raises:
            NotFound: ``EntityNotFoundException``.
            ResourceInUse: The crawler is running (``CrawlerRunningException``).
            ValidationError: A bad target, database name or schedule.
        """
        ctx.require("write")
        given = update.model_dump(mode="json", include=update.model_fields_set)
        with self.db.session() as session:
            record = session.get(CrawlerRecord, name)
            if record is None:
                raise _no_crawler(name)
            if record.state != "READY":
                raise _running(name)
            spec = dict(record.spec)
            for field in ("role", "description", "table_prefix"):
                if field in given:
                    spec[field] = given[field] if field != "role" else (given[field] or "lakeworks")
            if given.get("database_name") is not None:
                spec["database_name"] = given["database_name"]
            if given.get("targets") is not None:
                spec["targets"] = given["targets"]
            if given.get("schema_change_policy") is not None:
                spec["schema_change_policy"] = given["schema_change_policy"]
            spec["database_name"] = self._check_spec(
                spec["database_name"], CrawlerTargets.model_validate(spec["targets"])
            )
            if "schedule" in given:
                self._set_schedule(record, given["schedule"])
            record.spec = spec
            record.version += 1
            record.last_updated = self.clock()
        return self._crawler(record)

    def _set_schedule(self, record: CrawlerRecord, expression: str | None) -> None:
        if not expression:
            record.schedule, record.schedule_state, record.next_run = None, "NOT_SCHEDULED", None
            return
        schedule = parse_cron(expression)
        record.schedule = schedule.expression
        if record.schedule_state == "NOT_SCHEDULED" and record.next_run is None:
            record.schedule_state = "SCHEDULED"
        record.next_run = schedule.next_after(self.clock())

    def set_schedule_state(self, ctx: RequestContext, name: str, scheduled: bool) -> Crawler:
        """Resume or pause a crawler's schedule (Glue's Start/StopCrawlerSchedule).

        Raises:
            NotFound: ``EntityNotFoundException``.
            ValidationError: The crawler has no schedule (``NoScheduleException``).
        """
        ctx.require("write")
        with self.db.session() as session:
            record = session.get(CrawlerRecord, name)
            if record is None:
                raise _no_crawler(name)
            if not record.schedule:
                raise ValidationError(
                    f"Crawler {name!r} has no schedule; set one with update_crawler",
                    aws_code="NoScheduleException",
                )
            record.schedule_state = "SCHEDULED" if scheduled else "NOT_SCHEDULED"
            record.next_run = parse_cron(record.schedule).next_after(self.clock())
        return self._crawler(record)

    def delete_crawler(self, ctx: RequestContext, name: str) -> None:
        """Delete a crawler and its crawl history; its tables stay (Glue's DeleteCrawler).

        Raises:
            NotFound: ``EntityNotFoundException``.
            ResourceInUse: It is running (``CrawlerRunningException``).
        """
        ctx.require("write")
        with self.db.session() as session:
            record = session.get(CrawlerRecord, name)
            if record is None:
                raise _no_crawler(name)
            if record.state != "READY":
                raise _running(name)
            session.delete(record)

    # -- crawls ----------------------------------------------------------------------------

    def start_crawler(self, ctx: RequestContext, name: str) -> Crawl:
        """Start a crawl in a background thread (Glue's StartCrawler).

        Raises:
            NotFound: ``EntityNotFoundException``.
            ResourceInUse: Already running (``CrawlerRunningException``).
        """
        ctx.require("write")
        return self._launch(ctx, name)

    def _launch(self, ctx: RequestContext, name: str) -> Crawl:
        crawl_id = str(uuid.uuid4())
        now = self.clock()
        with self.db.session() as session:
            if not store.move_crawler(session, name, ("READY",), state="RUNNING"):
                raise _running(name) if session.get(CrawlerRecord, name) else _no_crawler(name)
            record = session.get(CrawlerRecord, name)
            assert record is not None
            crawl = CrawlRecord(
                crawl_id=crawl_id,
                crawler_name=name,
                state="RUNNING",
                start_time=now,
                end_time=None,
                error_message=None,
                report={},
            )
            session.add(crawl)
        crawler = self._crawler(record)
        cancel = threading.Event()
        thread = threading.Thread(
            target=self._run,
            args=(ctx, crawler, crawl_id, cancel),
            name=f"crawl-{name}",
            daemon=True,
        )
        with self._mutex:
            self._crawls[name] = (thread, cancel)
        thread.start()
        return self._crawl(crawl)

    def _run(
        self, ctx: RequestContext, crawler: Crawler, crawl_id: str, cancel: threading.Event
    ) -> None:
        report = CrawlReport()
        state, error = "COMPLETED", None
        try:
            report = run_crawl(self.catalog.lake, self.catalog, ctx, crawler, cancel)
        except CrawlCancelled:
            state = "STOPPED"
        except CrawlFailed as exc:
            state, error = "FAILED", str(exc)
        except LakeworksError as exc:
            state, error = "FAILED", exc.message
        except Exception as exc:  # a bug must not leave the crawler RUNNING forever
            log.exception("crawl %s of %s failed", crawl_id, crawler.name)
            state, error = "FAILED", f"Internal error ({type(exc).__name__}); see the server log"
        body: dict[str, Any] = {
            "tables_created": report.tables_created,
            "tables_updated": report.tables_updated,
            "tables_deleted": report.tables_deleted,
            "partitions_added": report.partitions_added,
            "partitions_deleted": report.partitions_deleted,
            "messages": [m.model_dump(mode="json") for m in report.messages],
        }
        try:
            with self.db.session() as session:
                crawl = session.get(CrawlRecord, crawl_id)
                if crawl is not None:
                    crawl.state, crawl.error_message = state, error
                    crawl.end_time = self.clock()
                    crawl.report = body
                record = session.get(CrawlerRecord, crawler.name)
                if record is not None:
                    record.state = "READY"
        finally:
            with self._mutex:
                self._crawls.pop(crawler.name, None)

    def stop_crawler(self, ctx: RequestContext, name: str) -> None:
        """Ask a running crawl to stop; it ends CANCELLED (Glue's StopCrawler).

        Raises:
            NotFound: ``EntityNotFoundException``.
            ResourceInUse: Not running (``CrawlerNotRunningException``) or already stopping
                (``CrawlerStoppingException``).
        """
        ctx.require("write")
        with self.db.session() as session:
            if not store.move_crawler(session, name, ("RUNNING",), state="STOPPING"):
                record = session.get(CrawlerRecord, name)
                if record is None:
                    raise _no_crawler(name)
                if record.state == "STOPPING":
                    raise ResourceInUse(
                        f"Crawler {name!r} is already stopping",
                        aws_code="CrawlerStoppingException",
                    )
                raise ResourceInUse(
                    f"Crawler {name!r} is not running", aws_code="CrawlerNotRunningException"
                )
        with self._mutex:
            running = self._crawls.get(name)
        if running is not None:
            running[1].set()

    def wait(self, name: str, timeout: float | None = None) -> Crawl | None:
        """Wait for the running crawl of ``name`` to end; return its latest crawl."""
        with self._mutex:
            running = self._crawls.get(name)
        if running is not None:
            running[0].join(timeout)
        with self.db.session() as session:
            latest = store.latest_crawls(session, name, 1)
        return self._crawl(latest[0]) if latest else None

    def list_crawls(self, ctx: RequestContext, name: str, *, max_results: int = 20) -> list[Crawl]:
        """A crawler's latest crawls with their reports, newest first (Glue's ListCrawls).

        Raises:
            NotFound: ``EntityNotFoundException``.
        """
        ctx.require("read")
        self._require(name)
        with self.db.session() as session:
            return [self._crawl(r) for r in store.latest_crawls(session, name, max_results)]

    def get_crawler_metrics(
        self, ctx: RequestContext, names: list[str] | None = None
    ) -> list[CrawlerMetrics]:
        """Run-time figures of the named crawlers, or of all (Glue's GetCrawlerMetrics).

        Raises:
            NotFound: A named crawler does not exist.
        """
        ctx.require("read")
        if names is None:
            with self.db.session() as session:
                names = [r.name for r in store.list_crawlers(session)]
        out = []
        for name in names:
            record = self._require(name)
            finished = [c for c in self._finished(name, _HISTORY) if c.end_time is not None]
            runtimes = [(c.end_time - c.start_time).total_seconds() for c in finished]  # type: ignore[operator]
            last = finished[0].report if finished else {}
            median = statistics.median(runtimes) if runtimes else 0.0
            left = 0.0
            if record.state != "READY":
                running = self._crawler(record).crawl_elapsed_time / 1000
                left = max(0.0, median - running)
            out.append(
                CrawlerMetrics(
                    crawler_name=name,
                    time_left_seconds=left,
                    still_estimating=record.state != "READY" and not runtimes,
                    last_runtime_seconds=runtimes[0] if runtimes else 0.0,
                    median_runtime_seconds=median,
                    tables_created=len(last.get("tables_created", [])),
                    tables_updated=len(last.get("tables_updated", [])),
                    tables_deleted=len(last.get("tables_deleted", [])),
                )
            )
        return out
