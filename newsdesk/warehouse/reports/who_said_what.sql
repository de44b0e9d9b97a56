-- Who said what: the 1,000 newest attributed claims with speaker, cue, content and article.
with claim_rows as (
    select c.article_id, c.claim_idx, c.kind, c.speaker, c.speaker_entity_id, c.cue, c.content, c.confidence
    from claims as c
    where c.kind <> 'unattributed'
),
recent as (
    select cr.*, a.title, a.ingested_at
    from claim_rows as cr
    join articles as a using (article_id)
    order by a.ingested_at desc, cr.article_id, cr.claim_idx
    limit 1000
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
        r.title as article,
        r.confidence
    from recent as r
    left join speakers as s on s.entity_id = r.speaker_entity_id
    order by r.ingested_at desc, r.article_id, r.claim_idx
)
select * from final
