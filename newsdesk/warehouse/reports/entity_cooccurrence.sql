-- Which entities are named together in the same articles? Pairs among the 500 most widespread
-- entities of the 10,000 newest articles: the same work at any size of warehouse (over all of
-- history it grouped every mention, 11 s at a million articles; `newsdesk sql` can still do that).
with recent as (
    select article_id
    from articles
    order by ingested_at desc, article_id
    limit 10000
),
recent_mentions as (
    select distinct article_id, entity_id, entity_name
    from mentions
    where article_id in (select article_id from recent)
),
entity_articles as (
    select entity_id, count(distinct article_id) as articles
    from recent_mentions
    group by entity_id
),
top_entities as (
    select entity_id from entity_articles
    order by articles desc, entity_id
    limit 500
),
per_article as (
    select article_id, entity_id, entity_name
    from recent_mentions
    where entity_id in (select entity_id from top_entities)
),
pairs as (
    select a.entity_name as entity_a, b.entity_name as entity_b, count(*) as articles
    from per_article as a
    join per_article as b
        on a.article_id = b.article_id and a.entity_id < b.entity_id
    group by a.entity_name, b.entity_name
),
final as (
    select * from pairs
    order by articles desc, entity_a, entity_b
    limit 100
)
select * from final
