-- Numbers inside claims: the value, its unit, who asserted it and where.
with numbers as (
    select article_id, claim_idx, value, unit, text as number_text
    from quantities
    where claim_idx is not null
),
numeric_claims as (
    select c.article_id, c.claim_idx, c.speaker, c.speaker_entity_id, c.cue, c.content
    from claims as c
    where exists (select 1 from numbers as n where n.article_id = c.article_id and n.claim_idx = c.claim_idx)
),
speakers as (
    select m.entity_id, any_value(m.entity_name) as name
    from mentions as m
    where m.entity_id in (select speaker_entity_id from numeric_claims)
    group by m.entity_id
),
final as (
    select
        n.value,
        n.unit,
        n.number_text,
        coalesce(s.name, c.speaker, '(unattributed)') as speaker,
        c.cue,
        c.content,
        a.title as article
    from numbers as n
    join numeric_claims as c using (article_id, claim_idx)
    join articles as a using (article_id)
    left join speakers as s on s.entity_id = c.speaker_entity_id
    order by a.title, c.claim_idx, n.value desc
)
select * from final
