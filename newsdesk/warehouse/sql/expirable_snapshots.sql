-- Snapshots older than the retention, never the current one ("news" is lake.CATALOG_ALIAS).
select snapshot_id
from news.snapshots()
where snapshot_time < $older_than
    and snapshot_id < (select max(snapshot_id) from news.snapshots())
order by snapshot_id
