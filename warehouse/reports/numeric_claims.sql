-- Numbers inside claims: the value, its unit, who asserted it and where.
with numbers as (
    select article_id, claim_idx, value, unit, text as number_text
    from quantities
    where claim_idx is not null
),
final as (
    select
        n.value,
        n.unit,
        n.number_text,
        coalesce(e.name, c.speaker, '(unattributed)') as speaker,
        c.cue,
        c.content,
        a.title as article
    from numbers as n
    join claims as c using (article_id, claim_idx)
    join articles as a using (article_id)
    left join entities as e on e.entity_id = c.speaker_entity_id
    order by a.title, c.claim_idx, n.value desc
)
select * from final
