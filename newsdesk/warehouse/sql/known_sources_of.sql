-- known_sources for some paths only: a run that an event started for a few files
-- looks them up instead of reading the whole table.
select path, size_bytes, mtime_ns, status, content_sha256, article_id, first_seen_at, ctime_ns
from sources
where path in (select unnest($paths::varchar[]))
