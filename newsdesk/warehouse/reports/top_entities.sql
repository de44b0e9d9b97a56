-- Which entities appear in the most articles?
-- Counted in entity_spellings, which each batch commit keeps (an article counts once per
-- entity, through its first mention of it), not over every mention; then names, labels,
-- aliases and first sighting for the top 50 and their ties only.
with live as (
    -- each way an entity is written, with its live mentions: a spelling's rows (signed, one
    -- per commit that wrote or deleted it) sum to what mentions holds
    select entity_id, entity_name, label, text, sum(mentions) as n, sum(articles) as first_mentions
    from entity_spellings
    group by entity_id, entity_name, label, text
    having sum(mentions) > 0
),
counts as (
    select entity_id, sum(first_mentions) as article_count, sum(n) as mention_count
    from live
    group by entity_id
),
candidates as (
    -- rank() gives ties one rank: every entity that can still be in the top 50 once names break ties
    select * from counts
    qualify rank() over (order by article_count desc, mention_count desc) <= 50
),
spellings as (
    select * from live where entity_id in (select entity_id from candidates)
),
names as (
    -- the most frequent name and label; ties go to the first in order, and nulls count for
    -- nothing, as mode(... order by ...) does
    select entity_id, entity_name as name
    from (select entity_id, entity_name, sum(n) as n from spellings where entity_name is not null group by all)
    qualify row_number() over (partition by entity_id order by n desc, entity_name) = 1
),
labels as (
    select entity_id, label
    from (select entity_id, label, sum(n) as n from spellings where label is not null group by all)
    qualify row_number() over (partition by entity_id order by n desc, label) = 1
),
aliases as (
    select entity_id, list(distinct regexp_replace(text, '^(the|The|THE)\s+', '') order by regexp_replace(text, '^(the|The|THE)\s+', '')) as aliases
    from spellings
    group by entity_id
),
first_seen as (
    -- the one figure read from mentions, for the candidates only
    select m.entity_id, min(a.ingested_at) as first_seen_at
    from mentions as m
    join articles as a using (article_id)
    where m.entity_id in (select entity_id from candidates)
        and m.first_in_article is not false  -- an article's first sighting: its flagged (or unflagged, older) rows
    group by m.entity_id
),
final as (
    select n.name, l.label, c.article_count, c.mention_count, al.aliases, fs.first_seen_at
    from candidates as c
    left join names as n using (entity_id)  -- an entity never named: null, as the entities view says
    left join labels as l using (entity_id)
    join aliases as al using (entity_id)
    join first_seen as fs using (entity_id)
    order by c.article_count desc, c.mention_count desc, n.name
    limit 50
)
select * from final
