call ducklake_delete_orphaned_files('news', older_than => $older_than)
