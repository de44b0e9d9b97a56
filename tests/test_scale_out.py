"""Scale-out on real servers the tests start: a PostgreSQL catalog, an S3 data path on a
local S3-compatible server (moto), extraction on a 2-worker Dask cluster, writers in
separate processes, `newsdesk migrate`, and bad configuration as one line and an exit code."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import SAMPLE, ingest_argv, newsdesk, rows, table_counts, write_variants
from newsdesk.settings import Settings
from services import extraction_tasks

FILES = 12  # the sample + 11 variants


def _seed(root: Path) -> Path:
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    shutil.copy(SAMPLE, seeds / SAMPLE.name)
    write_variants(seeds, FILES - 1)
    return seeds


@pytest.fixture(scope="module")
def sqlite_counts(tmp_path_factory, prefect_server) -> dict[str, int]:
    """Row counts of a plain run (SQLite catalog, local files) over the same files."""
    from newsdesk.flows.ingest import ingest

    root = tmp_path_factory.mktemp("sqlite")
    seeds = _seed(root)
    settings = Settings(seeds=seeds, warehouse=root / "warehouse")
    ingest(seeds=str(seeds), warehouse=str(settings.warehouse_dir))
    return table_counts(settings)


def _local_parquet(settings: Settings) -> list[Path]:
    return list(settings.warehouse_dir.rglob("*.parquet")) if settings.warehouse_dir.exists() else []


def _prefix(settings: Settings) -> str:
    return settings.lake_data_path.removeprefix("s3://").split("/", 1)[1]


def test_two_writers_on_postgres_s3_and_dask_match_a_sqlite_run(
    tmp_path, remote_env, s3, dask, prefect_server, sqlite_counts
):
    seeds = _seed(tmp_path)
    settings = Settings(seeds=seeds, warehouse=tmp_path / "warehouse")
    assert settings.catalog_kind == "postgres" and settings.remote_data
    before = extraction_tasks(dask.address)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "NEWSDESK_DASK_ADDRESS": dask.address,
           "NEWSDESK_BATCH_SIZE": "3"}  # fmt: skip
    command = ingest_argv(settings)
    writers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [writer.communicate(timeout=600) for writer in writers]
    for writer, (_, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr.decode()[-2000:]
    # the same rows as the plain run, each article and path once
    assert table_counts(settings) == sqlite_counts
    assert rows(settings, "select count(*) from (select path from sources group by 1 having count(*) > 1)") == [(0,)]
    assert rows(settings, "select count(*) from (select article_id from articles group by 1 having count(*) > 1)") == [
        (0,)
    ]
    assert rows(settings, "select sum(articles_added) from runs") == [(FILES,)]
    # the data is in the bucket, none of it in the local folder
    objects = s3.keys(_prefix(settings))
    assert any(key.endswith(".parquet") for key in objects)
    assert _local_parquet(settings) == []
    # the scheduler ran the extraction: at least one task per batch of each run that extracted
    assert extraction_tasks(dask.address) - before >= FILES // 3
    # no secret in what the runs printed
    printed = b"".join(out + err for out, err in outputs).decode()
    assert remote_env["AWS_SECRET_ACCESS_KEY"] not in printed and remote_env["PGPASSWORD"] not in printed


def test_every_reader_works_on_postgres_and_s3(tmp_path, remote_env, prefect_server):
    from newsdesk import connect
    from newsdesk.flows.ingest import ingest

    settings = Settings(seeds=_seed(tmp_path), warehouse=tmp_path / "warehouse")
    ingest(seeds=str(settings.seeds_dir), warehouse=str(settings.warehouse_dir))
    claims = rows(settings, "select count(*) from claims")[0][0]
    assert claims > 0
    sql = newsdesk("sql", "select count(*) as n from claims", "--format", "csv", "--warehouse",
                   str(settings.warehouse_dir))  # fmt: skip
    assert sql.returncode == 0 and sql.stdout.split() == ["n", str(claims)], sql.stderr
    report = newsdesk("report", "who_said_what", "--format", "csv", "--warehouse", str(settings.warehouse_dir))
    assert report.returncode == 0 and len(report.stdout.strip().splitlines()) > 1, report.stderr
    con = connect(settings.warehouse_dir)
    try:
        assert con.sql("select count(*) from claims").fetchone() == (claims,)
    finally:
        con.close()
    # the read-only path stays read-only on object storage, and reads nothing outside the lake
    outside = newsdesk("sql", "select * from read_parquet('s3://newsdesk-test/elsewhere/*.parquet')")
    assert outside.returncode != 0 and "Traceback" not in outside.stderr
    assert newsdesk("sql", "copy claims to 's3://newsdesk-test/x.parquet'").returncode == 2
    assert not any("secret" in str(row).lower() for row in rows(settings, "select * from runs"))
    # nothing that shows the credentials, the catalog database or paths out of the prefix
    for hostile in [
        "select current_setting('s3_secret_access_key')",
        "select * from duckdb_settings()",
        "select * from duckdb_secrets()",
        "select * from read_parquet('" + settings.lake_data_path + "../elsewhere/x.parquet')",
        "select * from '" + settings.lake_data_path + "../../other-bucket/x.parquet'",
        "select rolname from __ducklake_metadata_news.pg_catalog.pg_authid",
        "select * from __ducklake_metadata_news.ducklake_snapshot",
    ]:
        refused = newsdesk("sql", hostile, "--warehouse", str(settings.warehouse_dir))
        assert refused.returncode != 0 and remote_env["AWS_SECRET_ACCESS_KEY"] not in refused.stdout + refused.stderr
        assert refused.stderr.startswith(("refused:", "query failed:")), (hostile, refused.stderr)


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.endswith((".lock", "-wal", "-shm")):
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_migrate_sqlite_to_postgres_and_s3(tmp_path, postgres, s3, prefect_server, monkeypatch):
    from newsdesk.flows.ingest import ingest
    from services import BUCKET, PASSWORD

    source = Settings(seeds=_seed(tmp_path), warehouse=tmp_path / "warehouse")
    ingest(seeds=str(source.seeds_dir), warehouse=str(source.warehouse_dir))
    counts, untouched = table_counts(source), _tree_digest(source.warehouse_dir)
    catalog, data_path = postgres.catalog(postgres.new_database()), f"s3://{BUCKET}/migrated/"
    env = {"PGPASSWORD": PASSWORD, **s3.env()}
    moved = newsdesk("migrate", "--warehouse", str(source.warehouse_dir), "--catalog", catalog,
                     "--data-path", data_path, env=env)  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    assert "counts checked" in moved.stdout
    assert _tree_digest(source.warehouse_dir) == untouched  # the source is only read
    for name, value in {"NEWSDESK_CATALOG": catalog, "NEWSDESK_DATA_PATH": data_path, **env}.items():
        monkeypatch.setenv(name, value)
    target = Settings(seeds=source.seeds_dir, warehouse=tmp_path / "elsewhere")
    assert table_counts(target) == counts
    assert rows(target, "select count(*) from runs") == [(1,)]
    assert any(key.endswith(".parquet") for key in s3.keys("migrated/"))
    # a second migration into the now non-empty target is refused and changes nothing
    for name in ("NEWSDESK_CATALOG", "NEWSDESK_DATA_PATH"):
        monkeypatch.delenv(name)
    again = newsdesk("migrate", "--warehouse", str(source.warehouse_dir), "--catalog", catalog,
                     "--data-path", data_path, env=env)  # fmt: skip
    assert again.returncode == 2 and "not empty" in again.stderr
    assert table_counts(target) == counts
    # a target whose data path overlaps the source's or already holds files is refused
    fresh = postgres.catalog(postgres.new_database())
    for overlapping in (str(source.warehouse_dir / "lake"), str(source.warehouse_dir / "lake" / "in"), data_path):
        refused = newsdesk("migrate", "--warehouse", str(source.warehouse_dir), "--catalog", fresh,
                           "--data-path", overlapping, env=env)  # fmt: skip
        assert refused.returncode == 2, (overlapping, refused.stderr)
    assert _tree_digest(source.warehouse_dir) == untouched


def _one_line(result) -> str:
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_bad_configuration_is_one_line_with_its_exit_code(tmp_path, postgres, s3, remote_env):
    from services import free_port

    warehouse = ["--warehouse", str(tmp_path / "warehouse")]
    # no warehouse in the database yet
    empty = newsdesk("sql", "select 1", *warehouse)
    assert empty.returncode == 2 and "no warehouse" in _one_line(empty)
    # the wrong password
    wrong = newsdesk("sql", "select 1", *warehouse, env={"PGPASSWORD": "not-the-password"})
    assert wrong.returncode == 2 and "refused the login" in _one_line(wrong)
    # a database server that does not answer
    dead = remote_env["NEWSDESK_CATALOG"].replace(f"port={postgres.port}", f"port={free_port()}")
    unreachable = newsdesk("sql", "select 1", *warehouse, env={"NEWSDESK_CATALOG": dead})
    assert unreachable.returncode == 3 and "cannot reach" in _one_line(unreachable)
    # a malformed catalog string is a configuration error, not an unreachable server
    malformed = newsdesk("sql", "select 1", *warehouse, env={"NEWSDESK_CATALOG": dead + " foo=bar"})
    assert malformed.returncode == 2 and "not a valid" in _one_line(malformed)
    # a password in the catalog string is refused, and not echoed
    leaky = newsdesk("sql", "select 1", *warehouse, env={"NEWSDESK_CATALOG": dead + " password=hunter2"})
    assert leaky.returncode == 2 and "hunter2" not in leaky.stderr + leaky.stdout
    # a bucket that does not exist: refused before anything is written
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SAMPLE, seeds)
    nobucket = newsdesk("ingest", "--seeds", str(seeds), *warehouse,
                        env={"NEWSDESK_DATA_PATH": "s3://no-such-bucket/x/"})  # fmt: skip
    assert nobucket.returncode == 2 and "does not exist" in _one_line(nobucket)
    assert newsdesk("sql", "select 1", *warehouse).returncode == 2  # still no warehouse
    # an unreachable Dask scheduler
    nodask = newsdesk("ingest", "--seeds", str(seeds), *warehouse,
                      env={"NEWSDESK_DASK_ADDRESS": f"tcp://127.0.0.1:{free_port()}",
                           "NEWSDESK_DASK_CONNECT_SECONDS": "2"})  # fmt: skip
    assert nodask.returncode == 3 and "cannot reach the Dask scheduler" in _one_line(nodask)
    # the catalog keeps its data elsewhere than the data path named
    from newsdesk.warehouse import lake

    lake.connect(Settings(seeds=seeds, warehouse=tmp_path / "warehouse")).close()  # creates the warehouse
    moved = newsdesk("sql", "select 1", *warehouse, env={"NEWSDESK_DATA_PATH": "s3://newsdesk-test/other/"})
    assert moved.returncode == 2 and "another path" in _one_line(moved)
