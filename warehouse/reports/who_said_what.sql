-- Who said what: every attributed claim with its speaker, cue and article.
with claim_rows as (
    select c.article_id, c.claim_idx, c.kind, c.speaker, c.speaker_entity_id, c.cue, c.content, c.confidence
    from claims as c
    where c.kind <> 'unattributed'
),
speakers as (
    select entity_id, name from entities
),
final as (
    select
        coalesce(s.name, cr.speaker) as speaker,
        cr.speaker as speaker_as_written,
        cr.cue,
        cr.kind,
        cr.content,
        a.title as article,
        cr.confidence
    from claim_rows as cr
    join articles as a using (article_id)
    left join speakers as s on s.entity_id = cr.speaker_entity_id
    order by a.title, cr.claim_idx
)
select * from final
