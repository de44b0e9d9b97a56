"""Scale-out settings, without servers: what a catalog string, data path and the AWS
variables may be, and how they reach DuckDB."""

from __future__ import annotations

import pytest

from newsdesk.settings import Settings, SettingsError
from newsdesk.warehouse.lake import s3_secret_statement


@pytest.mark.parametrize(
    "catalog",
    [
        "postgres:dbname=news password=hunter2",
        "postgres:dbname=news PASSWORD = hunter2",
        "postgres:host=db;password=hunter2",
        "mysql:news",
        "postgresql://u:hunter2@db/news",
        "postgres:postgresql://u:hunter2@db/news",
        "postgres:dbname='postgresql://u:hunter2@db/news'",
        "postgres:postgresql://db/news?pass%77ord=hunter2",
    ],
)
def test_a_catalog_with_a_password_or_of_an_unknown_kind_is_refused_without_echoing_it(monkeypatch, catalog):
    monkeypatch.setenv("NEWSDESK_CATALOG", catalog)
    with pytest.raises(SettingsError) as refused:
        Settings.for_folders()
    assert "NEWSDESK_CATALOG" in str(refused.value) and "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    "data_path,expected",
    [("s3://bucket/prefix", "s3://bucket/prefix/"), ("s3://bucket/", "s3://bucket/"), ("/data/lake/", "/data/lake/")],
)
def test_data_paths_are_folders_or_s3_prefixes_ending_in_a_slash(data_path, expected):
    assert Settings(data_path=data_path).lake_data_path == expected


@pytest.mark.parametrize("data_path", ["gs://bucket/x/", "http://host/x/", "s3://", "s3://Bad_Bucket/x/"])
def test_other_storage_is_refused(monkeypatch, data_path):
    monkeypatch.setenv("NEWSDESK_DATA_PATH", data_path)
    with pytest.raises(SettingsError, match="NEWSDESK_DATA_PATH"):
        Settings.for_folders()


def test_s3_credentials_come_from_the_aws_variables_and_stay_out_of_reprs(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    settings = Settings(data_path="s3://bucket/lake/")
    assert "very-secret" not in repr(settings) and "very-secret" not in str(settings.model_dump())
    statement = s3_secret_statement(settings)
    assert "SECRET 'very-secret'" in statement and "KEY_ID 'key-id'" in statement
    assert "URL_STYLE 'path'" in statement and "USE_SSL false" in statement and "ENDPOINT '127.0.0.1:9000'" in statement
    assert "SCOPE 's3://bucket'" in statement


def test_an_https_endpoint_keeps_tls_and_no_endpoint_means_aws(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://minio.example:9000/")
    assert "USE_SSL true" in s3_secret_statement(Settings(data_path="s3://bucket/lake/"))
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    statement = s3_secret_statement(Settings(data_path="s3://bucket/lake/"))
    assert "ENDPOINT" not in statement and "URL_STYLE" not in statement


def test_a_quote_in_a_secret_cannot_end_the_statement(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a'b")
    import duckdb

    statement = s3_secret_statement(Settings(data_path="s3://bucket/lake/"))
    assert len(duckdb.extract_statements(statement)) == 1 and "SECRET 'a''b'" in statement


@pytest.mark.parametrize("endpoint", ["127.0.0.1:9000", "ftp://host/", "http://"])
def test_an_endpoint_without_http_or_https_is_refused(monkeypatch, endpoint):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    with pytest.raises(SettingsError, match="AWS_ENDPOINT_URL"):
        Settings.for_folders()


@pytest.mark.parametrize("address", ["localhost:8786", "http://scheduler:8786", "tcp://"])
def test_a_dask_address_must_be_a_scheduler_address(monkeypatch, address):
    monkeypatch.setenv("NEWSDESK_DASK_ADDRESS", address)
    with pytest.raises(SettingsError, match="NEWSDESK_DASK_ADDRESS"):
        Settings.for_folders()
