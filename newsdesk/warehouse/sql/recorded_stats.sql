-- What a plan of the whole of seeds/ compares each file with (records.RecordedStat).
-- An ingested file whose article is not stored gets no stat, so the plan reads it
-- again: another writer retired that article between a run's read of the file (its
-- content counted as stored, so not extracted) and the file's commit.
select s.path,
       case
           when s.status = 'ingested'
               and not exists (select 1 from articles as a where a.article_id = s.article_id)
               then null
           else s.size_bytes
       end as size_bytes,
       s.mtime_ns, s.status, s.ctime_ns
from sources as s
