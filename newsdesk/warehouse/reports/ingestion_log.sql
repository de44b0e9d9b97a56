-- The ingestion log: every run, what triggered it and what it did.
with final as (
    select
        run_id, trigger, status, started_at, finished_at,
        date_diff('millisecond', started_at, finished_at) / 1000.0 as seconds,
        files_seen, files_pending, articles_added, articles_existing, articles_retired,
        quarantined, deleted, error
    from runs
    order by started_at desc
)
select * from final
