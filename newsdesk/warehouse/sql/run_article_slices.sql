-- A run's article ids in consecutive slices of at most $slice_articles ids, as each
-- slice's first and last id. The end of a run checks and reports one slice at a time,
-- so its memory does not grow with the run; the bounds are ids the run holds, so they
-- cover every id whatever its format.
with numbered as (
    select article_id, (row_number() over (order by article_id) - 1) // $slice_articles as slice
    from articles
    where run_id = $run_id
)
select min(article_id) as first_id, max(article_id) as last_id
from numbered
group by slice
order by slice
