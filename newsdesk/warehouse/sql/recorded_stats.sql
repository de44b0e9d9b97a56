-- What a plan of the whole of seeds/ compares each file with (records.RecordedStat).
-- An ingested file whose article is not stored gets no stat, so the plan reads it
-- again: another writer retired that article between a run's read of the file (its
-- content counted as stored, so not extracted) and the file's commit.
select s.path,
       case when s.status = 'ingested' and stored.article_id is null then null else s.size_bytes end as size_bytes,
       s.mtime_ns, s.status, s.ctime_ns
from sources as s
left join (select distinct article_id from articles) as stored on stored.article_id = s.article_id
