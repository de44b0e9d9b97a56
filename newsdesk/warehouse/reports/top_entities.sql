-- Which entities appear in the most articles?
-- Counts in one pass over mentions (an article counts once per entity through its
-- first_in_article mention), the top 50 with their ties, then names, aliases and first
-- sighting for those entities only.
with counts as (
    select m.entity_id, count(*) filter (where m.first_in_article) as article_count, count(*) as mention_count
    from mentions as m
    group by m.entity_id
),
candidates as (
    -- rank() gives ties one rank: every entity that can still be in the top 50 once names break ties
    select * from counts
    qualify rank() over (order by article_count desc, mention_count desc) <= 50
),
candidate_mentions as (
    select m.entity_id, m.entity_name, m.label, m.text, m.article_id, m.first_in_article
    from mentions as m
    where m.entity_id in (select entity_id from candidates)
),
names as (
    select entity_id, mode(entity_name order by entity_name) as name, mode(label order by label) as label
    from candidate_mentions
    group by entity_id
),
aliases as (
    -- the regular expression runs once per distinct text, not once per mention
    select entity_id, list(distinct regexp_replace(text, '^(the|The|THE)\s+', '') order by regexp_replace(text, '^(the|The|THE)\s+', '')) as aliases
    from (select distinct entity_id, text from candidate_mentions)
    group by entity_id
),
first_seen as (
    select cm.entity_id, min(a.ingested_at) as first_seen_at
    from candidate_mentions as cm
    join articles as a using (article_id)
    where cm.first_in_article
    group by cm.entity_id
),
final as (
    select n.name, n.label, c.article_count, c.mention_count, al.aliases, fs.first_seen_at
    from candidates as c
    join names as n using (entity_id)
    join aliases as al using (entity_id)
    join first_seen as fs using (entity_id)
    order by c.article_count desc, c.mention_count desc, n.name
    limit 50
)
select * from final
