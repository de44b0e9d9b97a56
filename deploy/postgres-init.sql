-- Run once by the postgres image, on the first start with an empty data volume
-- (docker-compose.scale.yml mounts it into /docker-entrypoint-initdb.d/).
-- The image itself creates POSTGRES_DB, the Prefect server's database `prefect`;
-- this adds the DuckLake catalog's database, NEWSDESK_CATALOG's dbname. No role or
-- password here: both services log in as `postgres` with POSTGRES_PASSWORD.
CREATE DATABASE newsdesk;
