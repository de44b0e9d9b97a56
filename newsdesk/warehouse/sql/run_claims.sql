with run_claims as (
    select c.*, a.title
    from claims as c
    join articles as a using (article_id)
    where a.run_id = $run_id
),
final as (
    select coalesce(speaker, '(unattributed)') as speaker, cue, kind, content, title
    from run_claims
    order by title, claim_idx
    limit $limit
)
select * from final
