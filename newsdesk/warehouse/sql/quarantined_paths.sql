select path from sources where status = 'quarantined' order by path
