-- Which entities appear in the most articles?
with ranked as (
    select name, label, article_count, mention_count, aliases, first_seen_at
    from entities
),
final as (
    select * from ranked
    order by article_count desc, mention_count desc, name
    limit 50
)
select * from final
