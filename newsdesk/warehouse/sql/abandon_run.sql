update runs
set status = 'abandoned', finished_at = $finished_at, error = $error
where run_id = $run_id and status = 'running'
