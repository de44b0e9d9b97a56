-- Numbers inside claims: the 1,000 newest, with the value, its unit, who asserted it and where.
-- The newest first, as who_said_what: at a million articles all of them are over a million rows,
-- which no one reads as a report (`newsdesk sql` pages through the tables for an export).
with numbers as (
    select article_id, claim_idx, quantity_idx, value, unit, text as number_text
    from quantities
    where claim_idx is not null
),
recent as (
    select n.*, a.title, a.ingested_at
    from numbers as n
    join articles as a using (article_id)
    -- a number counts only inside a claim that is stored (semi join: each number once)
    where exists (select 1 from claims as c where c.article_id = n.article_id and c.claim_idx = n.claim_idx)
    order by a.ingested_at desc, n.article_id, n.claim_idx, n.value desc, n.quantity_idx
    limit 1000
),
recent_claims as (
    select c.article_id, c.claim_idx, c.speaker, c.speaker_entity_id, c.cue, c.content
    from claims as c
    where c.article_id in (select article_id from recent)
),
speakers as (
    -- the entities view's name, as every report gives it: the most frequent, ties to the first
    -- in order, counted in entity_spellings (a spelling's rows sum to its live mentions)
    select entity_id, entity_name as name
    from (
        select entity_id, entity_name, sum(mentions) as n
        from entity_spellings
        where entity_id in (select speaker_entity_id from recent_claims)
        group by entity_id, entity_name
        having sum(mentions) > 0
    )
    qualify row_number() over (partition by entity_id order by n desc, entity_name) = 1
),
final as (
    select
        r.value,
        r.unit,
        r.number_text,
        coalesce(s.name, c.speaker, '(unattributed)') as speaker,
        c.cue,
        c.content,
        r.title as article
    from recent as r
    join recent_claims as c using (article_id, claim_idx)
    left join speakers as s on s.entity_id = c.speaker_entity_id
    order by r.ingested_at desc, r.article_id, r.claim_idx, r.value desc, r.quantity_idx
)
select * from final
