"""One typed settings tree, read once and passed down.

Precedence, highest first: explicit arguments (``load_settings(server={"port": 1})``), environment
variables, ``<home>/lakeworks.toml``, defaults. An environment name is derived from the setting's
path: ``storage.endpoint_url`` is ``LAKEWORKS_STORAGE_ENDPOINT_URL`` (section, then field; the first
``_`` after the prefix separates them). Nothing else in Lakeworks reads ``os.environ`` for settings.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = [
    "AuthSettings",
    "AwsSettings",
    "DatabaseSettings",
    "FeatureStoreSettings",
    "HostingSettings",
    "JobsSettings",
    "ServerSettings",
    "SettingSource",
    "Settings",
    "StorageSettings",
    "default_home",
    "describe_settings",
    "load_settings",
    "settings_reference",
]

ENV_PREFIX = "LAKEWORKS_"
CONFIG_FILE = "lakeworks.toml"


def default_home() -> Path:
    """Return the home directory: ``$LAKEWORKS_HOME`` or ``~/.lakeworks``."""
    return Path(os.environ.get(f"{ENV_PREFIX}HOME") or Path.home() / ".lakeworks").expanduser()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    """The HTTP server."""

    host: str = Field("127.0.0.1", description="Interface to bind; loopback unless told otherwise.")
    port: int = Field(
        8600, ge=0, le=65535, description="TCP port for the REST API and AWS front door."
    )
    public_url: str | None = Field(
        None, description="URL clients and jobs use to reach the server (default http://host:port)."
    )
    max_body_bytes: int = Field(
        16 * 1024 * 1024, gt=0, description="Largest JSON request body on the native API."
    )
    max_object_bytes: int = Field(
        5 * 1024**3, gt=0, description="Largest single object upload (S3's single-PUT limit)."
    )
    tls_certfile: Path | None = Field(None, description="PEM certificate; enables HTTPS.")
    tls_keyfile: Path | None = Field(None, description="PEM private key for tls_certfile.")


class DatabaseSettings(_Section):
    """Metadata database."""

    url: str | None = Field(
        None,
        description="SQLAlchemy URL; default sqlite:///<home>/lakeworks.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )


class StorageSettings(_Section):
    """The object store behind every s3:// address."""

    url: str | None = Field(
        None,
        description="file:///path (default <home>/lake) or s3://bucket/prefix for any "
        "S3-compatible store.",
    )
    endpoint_url: str | None = Field(None, description="Endpoint of the S3-compatible store.")
    access_key_id: str | None = Field(None, description="Access key for the S3-compatible store.")
    secret_access_key: SecretStr | None = Field(None, description="Secret for the S3 store.")
    region: str = Field("us-east-1", description="Region of the S3-compatible store.")


class AwsSettings(_Section):
    """How the AWS-compatible front door presents itself."""

    account_id: str = Field("000000000000", pattern=r"^\d{12}$", description="Account id in ARNs.")
    region: str = Field("us-east-1", description="Region in ARNs and signatures.")
    max_clock_skew_seconds: int = Field(
        900, gt=0, description="Largest accepted difference between a signature's time and ours."
    )


class JobsSettings(_Section):
    """Job execution."""

    backend: str = Field("local", description="Backend that runs jobs: local or ray.")
    max_concurrent: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        gt=0,
        description="Jobs running at once (default: the number of cores).",
    )
    stop_grace_seconds: float = Field(
        10.0, ge=0, description="Time between SIGTERM and SIGKILL when a job is stopped."
    )
    poll_interval_seconds: float = Field(
        0.2, gt=0, description="How often the supervisor checks running jobs."
    )


class HostingSettings(_Section):
    """Model hosting: endpoint instances, invocations, data capture."""

    startup_timeout_seconds: float = Field(
        120.0, gt=0, description="Longest wait for a new model server to answer /ping."
    )
    health_interval_seconds: float = Field(
        1.0, gt=0, description="How often endpoint instances are checked (and restarted)."
    )
    invocation_timeout_seconds: float = Field(
        60.0, gt=0, description="Longest a model may take to answer one invocation (AWS: 60)."
    )
    multi_model_cache_bytes: int = Field(
        1024**3,
        gt=0,
        description="Memory budget per instance of a multi-model endpoint; the least recently "
        "used models are unloaded past it.",
    )
    capture_flush_seconds: float = Field(
        5.0, gt=0, description="How often captured requests are written to the lake."
    )
    serverless_idle_seconds: float = Field(
        300.0,
        gt=0,
        description="How long a serverless variant stays warm without invocations before its "
        "instances stop (the next invocation cold-starts one).",
    )
    serverless_spare_processes: int = Field(
        1,
        ge=0,
        le=16,
        description="Pre-started model server processes (numpy, XGBoost and the handlers "
        "imported) kept while any serverless variant exists, so a cold start only loads the "
        "model; 0 turns them off. Local backend only: other backends start each instance afresh.",
    )
    async_max_concurrent_invocations: int = Field(
        4,
        ge=1,
        description="Async invocations run at once per instance when the endpoint config's "
        "ClientConfig.MaxConcurrentInvocationsPerInstance is not set.",
    )
    autoscaling_interval_seconds: float = Field(
        10.0,
        gt=0,
        description="How often autoscaling samples the variants' metrics and applies the "
        "scaling policies.",
    )
    autoscaling_window_seconds: float = Field(
        60.0,
        gt=0,
        description="How many seconds of metric samples an autoscaling decision looks at (AWS: "
        "one-minute datapoints).",
    )


class FeatureStoreSettings(_Section):
    """The feature store."""

    offline_flush_seconds: float = Field(
        5.0,
        gt=0,
        description="How often buffered feature records are written to the offline store.",
    )
    offline_flush_rows: int = Field(
        50_000, ge=1, description="Buffered feature records that trigger an offline flush sooner."
    )
    group_cache_seconds: float = Field(
        1.0,
        ge=0,
        description="How long a feature group's definition is reused by record reads and writes "
        "without a database lookup (0: always look up). Changes on this server apply at once.",
    )


class FunctionsSettings(_Section):
    """Functions (Lambda-compatible)."""

    warm_seconds: float = Field(
        300.0,
        ge=0,
        description="How long an idle execution environment waits for the function's next "
        "invocation (module set-up runs once per environment); 0 starts one per invocation",
    )


class AuthSettings(_Section):
    """Credentials."""

    master_key: SecretStr | None = Field(
        None,
        description="Key that encrypts stored secrets (Fernet, base64). Default: generated once "
        "into <home>/master.key. Set it to share one database between servers.",
    )
    job_credential_ttl_seconds: int = Field(
        3600, gt=0, description="Lifetime added to a job's max runtime for its credentials."
    )
    credential_cache_seconds: float = Field(
        2.0,
        ge=0,
        description="How long a verified token or access key is trusted without a database "
        "lookup (0: always look up). Revocations on this server apply at once.",
    )


class Settings(BaseSettings):
    """The whole settings tree."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        validate_default=True,
    )

    home: Path = Field(default_factory=default_home, description="State directory.")
    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    aws: AwsSettings = Field(default_factory=AwsSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    hosting: HostingSettings = Field(default_factory=HostingSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    features: FeatureStoreSettings = Field(default_factory=FeatureStoreSettings)
    functions: FunctionsSettings = Field(default_factory=FunctionsSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _toml_path(init_settings())
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @property
    def database_url(self) -> str:
        """The metadata database URL, defaulting to SQLite under the home."""
        return self.database.url or f"sqlite:///{self.home / 'lakeworks.db'}"

    @property
    def storage_url(self) -> str:
        """The object store URL, defaulting to a directory under the home."""
        return self.storage.url or (self.home / "lake").as_uri()

    @property
    def public_url(self) -> str:
        """URL that clients and jobs use to reach this server."""
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        scheme = "https" if self.server.tls_certfile else "http"
        host = "127.0.0.1" if self.server.host in ("0.0.0.0", "::", "") else self.server.host  # noqa: S104
        return f"{scheme}://{host}:{self.server.port}"


def _toml_path(init_values: dict[str, Any]) -> Path:
    home = init_values.get("home")
    return (Path(home).expanduser() if home else default_home()) / CONFIG_FILE


def load_settings(**overrides: Any) -> Settings:
    """Read the settings tree once.

    Args:
        overrides: Values that win over every other source, e.g. ``home=Path(...)`` or
            ``server={"port": 0}``.

    Returns:
        The validated settings.

    Raises:
        pydantic.ValidationError: A value has the wrong type or is out of range.
    """
    return Settings(**overrides)


@dataclass(frozen=True)
class SettingSource:
    """One leaf of the settings tree, its value and where the value came from."""

    path: str
    value: Any
    source: str
    description: str


def describe_settings(settings: Settings, **overrides: Any) -> list[SettingSource]:
    """List every setting with its effective value and source (argument, env, file or default).

    Secrets are shown masked. This feeds ``lakeworks config show`` and the settings docs.
    """
    toml_values: dict[str, Any] = {}
    toml = settings.home / CONFIG_FILE
    if toml.is_file():
        toml_values = tomllib.loads(toml.read_text())
    rows: list[SettingSource] = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            for sub, subfield in type(value).model_fields.items():
                path = f"{name}.{sub}"
                env = f"{ENV_PREFIX}{name}_{sub}".upper()
                given = overrides.get(name, {})
                source = _source(
                    isinstance(given, dict) and sub in given,
                    env,
                    sub in toml_values.get(name, {}),
                    toml,
                )
                rows.append(
                    SettingSource(
                        path, _shown(getattr(value, sub)), source, subfield.description or ""
                    )
                )
        else:
            env = f"{ENV_PREFIX}{name}".upper()
            source = _source(name in overrides, env, name in toml_values, toml)
            rows.append(SettingSource(name, _shown(value), source, field.description or ""))
    return rows


def _source(from_arg: bool, env: str, in_toml: bool, toml: Path) -> str:
    if from_arg:
        return "argument"
    if env in os.environ:
        return f"env {env}"
    if in_toml:
        return f"file {toml}"
    return "default"


def _shown(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "**********"
    if isinstance(value, Path):
        return str(value)
    return value


def settings_reference() -> str:
    """Render every setting (env name, default, description) as a Markdown table.

    ``docs/configuration.md`` is this text; a test keeps the two identical.
    """
    lines = [
        "# Configuration",
        "",
        "Generated from `lakeworks.core.settings` (`scripts/gen-docs`); do not edit by hand.",
        "",
        "Precedence, highest first: explicit arguments, environment variables, "
        "`<home>/lakeworks.toml` (`[section]` tables), defaults. "
        "`lakeworks config show` prints each effective value with its source.",
        "",
        "| setting | environment variable | default | description |",
        "|---|---|---|---|",
    ]

    def row(path: str, env: str, field: Any) -> str:
        if field.default_factory is not None:
            default = "(computed)"
        elif field.default is None:
            default = "(unset)"
        else:
            default = f"`{field.default}`"
        return f"| `{path}` | `{env}` | {default} | {field.description or ''} |"

    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub, subfield in annotation.model_fields.items():
                lines.append(row(f"{name}.{sub}", f"{ENV_PREFIX}{name}_{sub}".upper(), subfield))
        else:
            lines.append(row(name, f"{ENV_PREFIX}{name}".upper(), field))
    return "\n".join(lines) + "\n"
