-- files_seen/files_pending: a run that took an event's files before its sweep knows
-- the whole tree's counts only at the end (null keeps what start_run wrote).
update runs
set finished_at = $finished_at, status = $status, articles_added = $articles_added,
    articles_existing = $articles_existing, articles_retired = $articles_retired,
    quarantined = $quarantined, deleted = $deleted, error = $error,
    files_seen = coalesce($files_seen, files_seen), files_pending = coalesce($files_pending, files_pending),
    swept_at = $swept_at
where run_id = $run_id
