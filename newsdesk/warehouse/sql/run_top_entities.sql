with run_articles as (
    select article_id from articles where run_id = $run_id
),
final as (
    select
        m.entity_name as name,
        mode(m.label order by m.label) as label,
        count(distinct m.article_id) as articles,
        count(*) as mentions
    from mentions as m
    where m.article_id in (select article_id from run_articles)
    group by m.entity_name
    order by articles desc, mentions desc, name
    limit $limit
)
select * from final
