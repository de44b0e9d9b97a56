-- A run's article ids in consecutive slices of at most $slice_articles ids, as each
-- slice's first and last id. The end of a run checks and reports one slice at a time,
-- so it never holds all of a long run's articles. The bounds are ids the run holds, so
-- they cover every id whatever its form, and distinct ids put each in one slice only.
with numbered as (
    select article_id, (row_number() over (order by article_id) - 1) // $slice_articles as slice
    from (select distinct article_id from articles where run_id = $run_id and article_id is not null)
)
select min(article_id) as first_id, max(article_id) as last_id
from numbered
group by slice
order by slice
