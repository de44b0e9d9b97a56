call ducklake_cleanup_old_files('news', older_than => $older_than)
