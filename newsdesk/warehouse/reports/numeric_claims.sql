-- Numbers inside claims: the 1,000 newest, with the value, its unit, who asserted it and where.
-- The newest first, as who_said_what: at a million articles all of them are over a million rows,
-- which no one reads as a report (`newsdesk sql` pages through the tables for an export).
-- A number's claim_idx names a claim of its article, stored in the same commit (the data
-- check quantity_claim_missing says so for each run).
with newest as (
    -- Numbers are listed article by article, newest first. When the 1,000 newest articles
    -- hold 1,000 numbers in claims, no older article can place one: only articles at least
    -- as new as those are joined (at a million articles, about a thousand, not all of them).
    -- Otherwise every article is.
    select article_id, ingested_at from articles order by ingested_at desc, article_id limit 1000
),
since as (
    select case
        when (
            select count(*) from quantities
            where claim_idx is not null and article_id in (select article_id from newest)
        ) >= 1000
        then (select min(ingested_at) from newest)
    end as ingested_at
),
candidates as (
    select article_id, ingested_at
    from articles
    where coalesce(ingested_at >= (select ingested_at from since), true)  -- no cutoff: every article
),
recent as (
    select q.article_id, q.claim_idx, q.quantity_idx, q.value, q.unit, q.text as number_text, a.ingested_at
    from quantities as q
    join candidates as a using (article_id)
    where q.claim_idx is not null
    order by a.ingested_at desc, q.article_id, q.claim_idx, q.value desc, q.quantity_idx
    limit 1000
),
recent_claims as (
    select c.article_id, c.claim_idx, c.speaker, c.speaker_entity_id, c.cue, c.content
    from claims as c
    where c.article_id in (select article_id from recent)
),
titles as (
    select article_id, title from articles where article_id in (select article_id from recent)
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
        t.title as article
    from recent as r
    join recent_claims as c using (article_id, claim_idx)
    join titles as t using (article_id)
    left join speakers as s on s.entity_id = c.speaker_entity_id
    order by r.ingested_at desc, r.article_id, r.claim_idx, r.value desc, r.quantity_idx
)
select * from final
