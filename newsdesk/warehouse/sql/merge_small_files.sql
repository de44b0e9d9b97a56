-- A long run's merge: only files under $max_bytes, so a file is rewritten until it is that big
-- and then left alone (merge_adjacent_files alone rewrites everything under 512 MB every time).
call ducklake_merge_adjacent_files('news', max_file_size => $max_bytes)
