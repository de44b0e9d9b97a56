-- Delete files the current snapshot applies ("news" is lake.CATALOG_ALIAS).
select count(*) from __ducklake_metadata_news.ducklake_delete_file where end_snapshot is null
