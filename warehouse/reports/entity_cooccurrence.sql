-- Which entities are named together in the same articles?
with per_article as (
    select distinct article_id, entity_id, entity_name
    from mentions
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
