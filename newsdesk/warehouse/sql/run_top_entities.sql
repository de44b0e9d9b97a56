-- A run's most-mentioned entities. Plain grouping in two steps, no count(distinct) or
-- mode() over the whole run: those hold every group in memory, and over 100,000
-- articles they did not fit the writer session's memory_limit. Plain groups spill.
with run_mentions as (
    select m.entity_name, m.label, m.article_id
    from mentions as m
    semi join articles as a on a.article_id = m.article_id and a.run_id = $run_id
),
per_article as (
    select entity_name, article_id, count(*) as mentions
    from run_mentions
    group by entity_name, article_id
),
top as (
    select entity_name as name, count(*) as articles, sum(mentions)::bigint as mentions
    from per_article
    group by entity_name
    order by articles desc, mentions desc, name
    limit $limit
),
top_labels as (
    -- mode(): the label most of the top names' mentions carry, the first by name on a tie.
    select r.entity_name as name, r.label, count(*) as times
    from run_mentions as r
    semi join top as t on t.name = r.entity_name
    where r.label is not null
    group by r.entity_name, r.label
),
final as (
    select
        t.name,
        arg_min(l.label, (-l.times, l.label)) filter (where l.label is not null) as label,
        t.articles,
        t.mentions
    from top as t
    left join top_labels as l using (name)
    group by t.name, t.articles, t.mentions
    order by t.articles desc, t.mentions desc, t.name
)
select * from final
