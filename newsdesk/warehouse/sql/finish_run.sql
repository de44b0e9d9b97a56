update runs
set finished_at = $finished_at, status = $status, articles_added = $articles_added,
    articles_existing = $articles_existing, articles_retired = $articles_retired,
    quarantined = $quarantined, deleted = $deleted, error = $error
where run_id = $run_id
