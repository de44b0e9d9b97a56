select path, error, last_seen_at from sources where status = 'quarantined' order by path
