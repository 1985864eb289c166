"""The Lakeworks client: one object with a typed collection per resource.

Example::

    import lakeworks

    c = lakeworks.Client()  # the local server under ~/.lakeworks, started if needed
    c.buckets.create("data")
    c.objects.put("data", "train.csv", Path("train.csv"))
    job = c.jobs.create(job_name="train-1", code_uri="s3://data/train.py", entry_point="train.py")
    c.jobs.wait("train-1")

Where the client connects, first match wins: the ``url``/``token`` arguments; the
``LAKEWORKS_URL``/``LAKEWORKS_TOKEN`` environment variables; the local server under ``home``
(``LAKEWORKS_HOME`` or ``~/.lakeworks``), whose ``server.json`` and ``credentials.json`` give the
URL and the admin token — started in the background first when none is running there.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from lakeworks.core.settings import default_home
from lakeworks.schemas.iam import CallerIdentity
from lakeworks.sdk import iam
from lakeworks.sdk._http import Transport
from lakeworks.sdk.catalog import Catalog, Crawlers
from lakeworks.sdk.errors import ServerUnreachable
from lakeworks.sdk.etl import EtlJobs
from lakeworks.sdk.features import FeatureGroups
from lakeworks.sdk.firehose import DeliveryStreams
from lakeworks.sdk.functions import Functions
from lakeworks.sdk.hosting import EndpointConfigs, Endpoints, Models
from lakeworks.sdk.jobs import Jobs
from lakeworks.sdk.lake import Buckets, Objects
from lakeworks.sdk.local import find_server, read_credentials, start_server
from lakeworks.sdk.processing import ProcessingJobs
from lakeworks.sdk.recipes import Profiles, Recipes
from lakeworks.sdk.recommender import InferenceRecommendationsJobs
from lakeworks.sdk.sql import Queries, SqlRows, Workgroups, run_sql, run_sql_rows, to_frame
from lakeworks.sdk.training import TrainingJobs, TuningJobs
from lakeworks.sdk.transform import TransformJobs
from lakeworks.sdk.triggers import Triggers

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["DEFAULT_TIMEOUT", "Client", "ServerUnreachable"]

log = logging.getLogger("lakeworks.sdk")

#: Seconds to wait for the server on each network operation.
DEFAULT_TIMEOUT = 60.0
_ENV_URL = "LAKEWORKS_URL"
_ENV_TOKEN = "LAKEWORKS_TOKEN"  # noqa: S105 - the variable's name, not a secret


class Client:
    """A connection to one Lakeworks server.

    Args:
        url: Server URL, e.g. ``http://127.0.0.1:8600``.
        token: Bearer token.
        home: Home of a local server (default ``$LAKEWORKS_HOME`` or ``~/.lakeworks``); used
            when no URL is given, and for :meth:`aws_env`.
        http: An httpx client to send requests through (tests pass the in-process
            ``lakeworks.testing.temporary_server(...).client``, which carries the token).
        timeout: Seconds to wait for the server on each network operation.
        start: Start a local server when none runs under ``home`` (only when no URL is given).

    Raises:
        ServerUnreachable: No URL given, no server under ``home`` and ``start`` is false, or
            the local server failed to start.

    Attributes:
        url: The server URL.
        home: The local server's home, when known.
        buckets: :class:`~lakeworks.sdk.lake.Buckets`.
        objects: :class:`~lakeworks.sdk.lake.Objects`.
        jobs: :class:`~lakeworks.sdk.jobs.Jobs`.
        training_jobs: :class:`~lakeworks.sdk.training.TrainingJobs`.
        tuning_jobs: :class:`~lakeworks.sdk.training.TuningJobs`.
        tokens: :class:`~lakeworks.sdk.iam.Tokens`.
        access_keys: :class:`~lakeworks.sdk.iam.AccessKeys`.
        catalog: :class:`~lakeworks.sdk.catalog.Catalog` (databases, tables, partitions).
        crawlers: :class:`~lakeworks.sdk.catalog.Crawlers`.
        queries: :class:`~lakeworks.sdk.sql.Queries`.
        workgroups: :class:`~lakeworks.sdk.sql.Workgroups`.
        functions: :class:`~lakeworks.sdk.functions.Functions`.
        etl_jobs: :class:`~lakeworks.sdk.etl.EtlJobs`.
        feature_groups: :class:`~lakeworks.sdk.features.FeatureGroups`.
        triggers: :class:`~lakeworks.sdk.triggers.Triggers`.
        delivery_streams: :class:`~lakeworks.sdk.firehose.DeliveryStreams`.
        models: :class:`~lakeworks.sdk.hosting.Models`.
        endpoint_configs: :class:`~lakeworks.sdk.hosting.EndpointConfigs`.
        endpoints: :class:`~lakeworks.sdk.hosting.Endpoints`.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        home: str | os.PathLike[str] | None = None,
        http: httpx.Client | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        start: bool = True,
    ) -> None:
        self.home: Path | None = Path(home).expanduser().resolve() if home else None
        if url is None and http is not None and str(http.base_url):
            url = str(http.base_url)
        if http is None:
            # An injected client already carries its credentials; the environment applies to
            # clients this object builds itself.
            url = url or os.environ.get(_ENV_URL) or None
            token = token or os.environ.get(_ENV_TOKEN) or None
        if url is None:
            url, token = self._local(start, token)
        elif token is None and http is None:
            token = self._token_of_local(url)
        self.url = url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)
        self._transport = Transport(self._http, self.url, token)
        self.buckets = Buckets(self._transport)
        self.objects = Objects(self._transport)
        self.jobs = Jobs(self._transport)
        self.processing_jobs = ProcessingJobs(self._transport)
        self.transform_jobs = TransformJobs(self._transport)
        self.inference_recommendations_jobs = InferenceRecommendationsJobs(self._transport)
        self.training_jobs = TrainingJobs(self._transport)
        self.tuning_jobs = TuningJobs(self._transport)
        self.recipes = Recipes(self._transport)
        self.profiles = Profiles(self._transport)
        self.tokens = iam.Tokens(self._transport)
        self.access_keys = iam.AccessKeys(self._transport)
        self.catalog = Catalog(self._transport)
        self.crawlers = Crawlers(self._transport)
        self.queries = Queries(self._transport)
        self.workgroups = Workgroups(self._transport)
        self.functions = Functions(self._transport)
        self.etl_jobs = EtlJobs(self._transport)
        self.feature_groups = FeatureGroups(self._transport)
        self.triggers = Triggers(self._transport)
        self.delivery_streams = DeliveryStreams(self._transport)
        self.models = Models(self._transport)
        self.endpoint_configs = EndpointConfigs(self._transport)
        self.endpoints = Endpoints(self._transport)

    def _local(self, start: bool, token: str | None) -> tuple[str, str | None]:
        home = self.home = self.home or default_home().expanduser().resolve()
        server = find_server(home)
        if server is None:
            if not start:
                raise ServerUnreachable(
                    f"No Lakeworks server is running under {home}; start one with "
                    f"'lakeworks server start --home {home}' or set {_ENV_URL}",
                    details={"home": str(home)},
                )
            server = start_server(home)
            log.info("started a Lakeworks server at %s (home %s)", server.url, home)
        credentials = read_credentials(home) or {}
        return server.url, token or credentials.get("token")

    def _token_of_local(self, url: str) -> str | None:
        # A URL without a token: if it is the local server's, its admin token is on disk.
        home = self.home or default_home().expanduser().resolve()
        server = find_server(home, check_health=False)
        if server is None or server.url != url.rstrip("/"):
            return None
        self.home = home
        return (read_credentials(home) or {}).get("token")

    def __repr__(self) -> str:
        return f"Client(url={self.url!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections this client opened (an injected ``http`` is left open)."""
        if self._owns_http:
            self._http.close()

    def health(self) -> dict[str, Any]:
        """The server's ``/healthz`` answer (no credentials needed)."""
        data: dict[str, Any] = self._transport.request("GET", "/healthz").json()
        return data

    def whoami(self) -> CallerIdentity:
        """The caller's principal, scopes and ARN."""
        return iam.whoami(self._transport)

    def sql(self, query: str, database: str | None = None) -> pa.Table:
        """Run one SQL statement over the lake now and return its rows.

        Args:
            query: One statement (``SELECT``, ``CREATE EXTERNAL TABLE``, ``SHOW TABLES`` …).
            database: The database unqualified table names refer to.

        Returns:
            A ``pyarrow.Table``; ``.to_pandas()`` turns it into a frame.

        Raises:
            ValidationError: The statement does not parse or names an unknown table (the
                message is the engine's, with the line and a caret at the position).
            NotFound: No such database.
        """
        return run_sql(self._transport, query, database)

    def sql_frame(self, query: str, database: str | None = None) -> pd.DataFrame:
        """Like :meth:`sql`, as a ``pandas.DataFrame``."""
        return to_frame(run_sql(self._transport, query, database))

    def sql_rows(self, query: str, database: str | None = None) -> SqlRows:
        """Like :meth:`sql`, as plain JSON values (no pyarrow needed on this side)."""
        return run_sql_rows(self._transport, query, database)

    def aws_env(self) -> dict[str, str] | None:
        """The ``AWS_*`` variables that point boto3 and the aws CLI at this server.

        Returns:
            ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and
            ``AWS_DEFAULT_REGION``; ``None`` when the access keys are unknown (only the local
            server's home holds them — create a pair with ``access_keys.create()`` otherwise).
        """
        credentials = read_credentials(self.home) if self.home else None
        if not credentials or "access_key_id" not in credentials:
            return None
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": credentials["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": credentials.get("secret_access_key", ""),
            "AWS_DEFAULT_REGION": aws_region(self.home),
        }


def aws_region(home: Path | None) -> str:
    """The region the server under ``home`` signs and answers with (its ``aws.region``)."""
    import pydantic

    from lakeworks.core.settings import load_settings

    try:
        settings = load_settings(home=home) if home else load_settings()
    except pydantic.ValidationError:
        return "us-east-1"  # the server would not start with these settings either
    return settings.aws.region
