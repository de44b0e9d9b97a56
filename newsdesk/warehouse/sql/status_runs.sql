select run_id, trigger, status, started_at, finished_at, files_pending, articles_added, quarantined, deleted
from runs
order by started_at desc
limit 5
