"""@flow maintain: DuckLake upkeep and the standing reports as Prefect artifacts."""

from __future__ import annotations

import re

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from newsdesk.pipeline.sources import printable
from newsdesk.settings import Settings
from newsdesk.warehouse import lake
from newsdesk.warehouse.files import reports

REPORT_ROWS = 50


# No Prefect retries: the warehouse layer retries its own write conflicts (lake._retry).
@task(name="compact-warehouse", cache_policy=NO_CACHE)
def compact_warehouse(warehouse: str | None) -> dict[str, int]:
    """Merge small Parquet files, expire old snapshots, delete files nothing references."""
    settings = Settings.for_folders(None, warehouse)
    con = lake.connect(settings)
    try:
        return lake.maintain(con, settings)
    finally:
        con.close()


@task(name="refresh-reports", cache_policy=NO_CACHE)
def refresh_reports(warehouse: str | None) -> list[str]:
    """Every parameterless report as a table artifact, for the Prefect UI."""
    settings = Settings.for_folders(None, warehouse)
    logger = get_run_logger()
    con = lake.open_reader(settings)
    names = []
    try:
        for name, found in reports(settings.reports_dir).items():
            try:
                if found.problem or lake.parameters_of(found.text):
                    continue  # unreadable, or needs parameters
                columns, rows = lake.query(con, found.text, limit=REPORT_ROWS)
            except (lake.ReadOnlyViolation, lake.QueryError) as exc:  # an analyst's report: skip it, say why
                logger.warning("report %s skipped: %s", printable(name), printable(str(exc).splitlines()[0]))
                continue
            table = [{c: _plain(v) for c, v in zip(columns, row, strict=False)} for row in rows]
            create_table_artifact(
                key=artifact_key(name), table=table, description=f"newsdesk report {name} (first {REPORT_ROWS} rows)"
            )
            names.append(name)
    finally:
        con.close()
    return names


def artifact_key(report: str) -> str:
    """Prefect artifact keys are lowercase letters, digits and dashes."""
    return "report-" + (re.sub(r"[^a-z0-9]+", "-", report.lower()).strip("-") or "unnamed")


def _plain(value):
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


@flow(name="maintain")
def maintain(warehouse: str | None = None) -> dict[str, int]:
    logger = get_run_logger()
    counts = compact_warehouse(warehouse)
    logger.info("warehouse upkeep: %s", counts)
    reports = refresh_reports(warehouse)
    logger.info("refreshed %d report artifacts", len(reports))
    return counts
