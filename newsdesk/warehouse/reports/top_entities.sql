-- Which entities appear in the most articles?
-- Counts first (one row per entity and article), the top 50 with their ties, then names,
-- aliases and first sighting for those entities only.
with entity_article as (
    select m.entity_id, m.article_id, count(*) as mentions
    from mentions as m
    group by m.entity_id, m.article_id
),
counts as (
    select ea.entity_id, count(*) as article_count, sum(ea.mentions) as mention_count
    from entity_article as ea
    where ea.article_id in (select article_id from articles)
    group by ea.entity_id
),
candidates as (
    -- rank() gives ties one rank: every entity that can still be in the top 50 once names break ties
    select * from counts
    qualify rank() over (order by article_count desc, mention_count desc) <= 50
),
named as (
    select
        m.entity_id,
        mode(m.entity_name order by m.entity_name) as name,
        mode(m.label order by m.label) as label,
        list(distinct regexp_replace(m.text, '^(the|The|THE)\s+', '') order by regexp_replace(m.text, '^(the|The|THE)\s+', '')) as aliases,
        min(a.ingested_at) as first_seen_at
    from mentions as m
    join articles as a using (article_id)
    where m.entity_id in (select entity_id from candidates)
    group by m.entity_id
),
final as (
    select n.name, n.label, c.article_count, c.mention_count, n.aliases, n.first_seen_at
    from candidates as c
    join named as n using (entity_id)
    order by c.article_count desc, c.mention_count desc, n.name
    limit 50
)
select * from final
