-- By id (from expirable_snapshots.sql): in a SQLite catalog `older_than` matches its whole UTC day.
call ducklake_expire_snapshots('news', versions => $versions)
