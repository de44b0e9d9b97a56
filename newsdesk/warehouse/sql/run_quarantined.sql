select path, error from sources where run_id = ? and status = 'quarantined' order by path
