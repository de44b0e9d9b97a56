insert into runs (run_id, flow_run_id, trigger, started_at, status, files_seen, files_pending)
values (?, ?, ?, ?, 'running', ?, ?)
