call ducklake_expire_snapshots('news', older_than => $older_than)
