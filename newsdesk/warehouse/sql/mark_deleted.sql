update sources
set status = 'deleted', last_seen_at = $seen_at, run_id = $run_id
where path = $path and status <> 'deleted'
