-- Data files the current snapshot reads (files replaced by a merge wait out the grace period on disk).
-- "news" is lake.CATALOG_ALIAS, as in every statement here.
select count(*) from __ducklake_metadata_news.ducklake_data_file where end_snapshot is null
