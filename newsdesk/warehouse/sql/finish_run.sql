update runs
set finished_at = ?, status = ?, articles_added = ?, articles_existing = ?, articles_retired = ?,
    quarantined = ?, deleted = ?, error = ?
where run_id = ?
