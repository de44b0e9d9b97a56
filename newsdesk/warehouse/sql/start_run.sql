insert into runs (run_id, flow_run_id, trigger, started_at, status, files_seen, files_pending)
values ($run_id, $flow_run_id, $trigger, $started_at, 'running', $files_seen, $files_pending)
