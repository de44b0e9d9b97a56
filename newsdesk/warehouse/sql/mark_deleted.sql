update sources
set status = 'deleted', last_seen_at = ?, run_id = ?
where path = ? and status <> 'deleted'
