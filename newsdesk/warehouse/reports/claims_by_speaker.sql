-- What did one speaker claim? newsdesk report claims_by_speaker --param speaker="Mark Rutte"
with speakers as (
    -- the entities view's name (mode of entity_name over mentions with an article), computed
    -- only for entities that speak somewhere, not for every entity with its aliases and counts
    select m.entity_id, mode(m.entity_name) as name
    from mentions as m
    join articles as a using (article_id)
    where m.entity_id in (select speaker_entity_id from claims)
    group by m.entity_id
),
final as (
    select coalesce(s.name, c.speaker) as speaker, c.cue, c.kind, c.content, a.title as article
    from claims as c
    join articles as a using (article_id)
    left join speakers as s on s.entity_id = c.speaker_entity_id
    -- plain text anywhere in the name, any case: contains() has no wildcards, so % and _ match only themselves
    where contains(lower(coalesce(s.name, c.speaker)), lower($speaker))
    order by a.title, c.claim_idx
)
select * from final
