-- Ingested files whose article is no longer stored: another writer retired it between
-- this run's read of the file (its content counted as stored, so not extracted) and the
-- file's commit. A null stat never matches the file's, so the next run reads the file
-- again and extracts its content. Yields how many rows it changed.
update sources
set size_bytes = null, mtime_ns = null
where status = 'ingested'
  and size_bytes is not null  -- not queued already
  and not exists (select 1 from articles as a where a.article_id = sources.article_id)
