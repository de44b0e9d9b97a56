select run_id from runs where status = 'running'
