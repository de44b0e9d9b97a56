-- Articles whose every file was edited away: no ingested source points at them any more.
with candidates as (
    select article_id from batch_previous
),
still_referenced as (
    select distinct article_id from sources where status = 'ingested'
)
select article_id from candidates
where article_id not in (select article_id from still_referenced)
