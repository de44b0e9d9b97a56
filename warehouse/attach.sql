-- For the DuckDB CLI, from the project folder: duckdb -init warehouse/attach.sql
-- Needs the ducklake and sqlite extensions in the CLI (INSTALL ducklake; INSTALL sqlite; once, online).
LOAD ducklake;
LOAD sqlite;
-- OVERRIDE_DATA_PATH: the catalog remembers where the lake was first written; this folder may have moved.
ATTACH 'ducklake:sqlite:warehouse/catalog.sqlite' AS news (DATA_PATH 'warehouse/lake/', OVERRIDE_DATA_PATH true, READ_ONLY);
USE news;
