-- Rewrite data files with deleted rows ($delete_threshold: the fraction deleted that warrants
-- it), so a reader stops applying delete files to them and the merge can take them.
call ducklake_rewrite_data_files('news', delete_threshold => $delete_threshold)
