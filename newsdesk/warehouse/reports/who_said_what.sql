-- Who said what: the 1,000 newest attributed claims with speaker, cue, content and article.
with newest as (
    -- Claims are listed article by article, newest first. When the 1,000 newest articles
    -- hold 1,000 attributed claims, no older article can place one: only articles at least
    -- as new as those are joined (at a million articles, about a thousand, not all of them).
    -- Otherwise every article is.
    select article_id, ingested_at from articles order by ingested_at desc, article_id limit 1000
),
since as (
    select case
        when (
            select count(*) from claims
            where kind <> 'unattributed' and article_id in (select article_id from newest)
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
    select c.article_id, c.claim_idx, c.kind, c.speaker, c.speaker_entity_id, c.cue, c.content, c.confidence,
        a.ingested_at
    from claims as c
    join candidates as a using (article_id)
    where c.kind <> 'unattributed'
    order by a.ingested_at desc, c.article_id, c.claim_idx
    limit 1000
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
        where entity_id in (select speaker_entity_id from recent)
        group by entity_id, entity_name
        having sum(mentions) > 0
    )
    qualify row_number() over (partition by entity_id order by n desc, entity_name) = 1
),
final as (
    select
        coalesce(s.name, r.speaker) as speaker,
        r.speaker as speaker_as_written,
        r.cue,
        r.kind,
        r.content,
        t.title as article,
        r.confidence
    from recent as r
    join titles as t using (article_id)
    left join speakers as s on s.entity_id = r.speaker_entity_id
    order by r.ingested_at desc, r.article_id, r.claim_idx
)
select * from final
