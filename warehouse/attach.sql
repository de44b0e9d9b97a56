-- For the DuckDB CLI, from the project folder: duckdb -init warehouse/attach.sql
-- Needs the ducklake and sqlite extensions in the CLI (INSTALL ducklake; INSTALL sqlite; once, online).
LOAD ducklake;
LOAD sqlite;
ATTACH 'ducklake:sqlite:warehouse/catalog.sqlite' AS news (DATA_PATH 'warehouse/lake/', READ_ONLY);
USE news;
