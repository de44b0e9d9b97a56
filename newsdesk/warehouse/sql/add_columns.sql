-- Columns added after the first release (lake.ADDED_COLUMNS); DuckLake evolves the schema in place.
alter table sources add column if not exists ctime_ns bigint;
alter table articles add column if not exists published_raw varchar;
alter table claims add column if not exists content_gap_start integer;
alter table claims add column if not exists content_gap_end integer;
-- Rows written before it stay null: top_entities counts those by distinct article.
alter table mentions add column if not exists first_in_article boolean;
-- When the run began its walk of the whole of seeds/; null: it took an event's files only.
alter table runs add column if not exists swept_at timestamptz;
