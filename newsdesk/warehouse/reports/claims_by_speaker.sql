-- What did one speaker claim? The 1,000 newest claims whose speaker's name holds the text:
-- newsdesk report claims_by_speaker --param speaker="Mark Rutte"
-- A speaker's name is the entities view's (the most frequent entity_name over the entity's
-- mentions, ties to the first in order), else the words the claim names them with.
-- Names are counted in entity_spellings, where a spelling's rows sum to its live mentions.
with names as (
    select entity_id, entity_name, sum(mentions) as n
    from entity_spellings
    where entity_name is not null  -- as mode() skips nulls: an entity never named goes by the claim's words
    group by entity_id, entity_name
    having sum(mentions) > 0
),
named_so as (
    -- only an entity named so in some mention can have a name that matches: the most
    -- frequent name is worked out for those few, not for every entity that speaks
    -- (contains() has no wildcards, so % and _ match only themselves)
    select distinct entity_id
    from names
    where contains(lower(entity_name), lower($speaker))
),
candidates as (
    select entity_id, entity_name as name
    from names
    where entity_id in (select entity_id from named_so)
    qualify row_number() over (partition by entity_id order by n desc, entity_name) = 1
),
speakers as (
    select * from candidates where contains(lower(name), lower($speaker))
),
unnamed as (
    -- entities of claims written so that no mention names: the claim's words name them
    -- (the data checks flag such a claim; the report still lists it)
    select c.speaker_entity_id as entity_id
    from claims as c
    where contains(lower(c.speaker), lower($speaker)) and c.speaker_entity_id is not null
    except
    select entity_id
    from names
),
matching as (
    -- a resolved speaker is named by its entity; an unresolved one, or one no mention
    -- names, by the claim's words. Matched before any join: a name is seldom most claims.
    select c.article_id, c.claim_idx, c.speaker, c.speaker_entity_id, c.cue, c.kind, c.content
    from claims as c
    where c.speaker_entity_id in (select entity_id from speakers)
        or (
            contains(lower(c.speaker), lower($speaker))
            and (c.speaker_entity_id is null or c.speaker_entity_id in (select entity_id from unnamed))
        )
),
newest as (
    select m.*, a.ingested_at
    from matching as m
    join articles as a using (article_id)
    order by a.ingested_at desc, m.article_id, m.claim_idx
    limit 1000
),
titles as (
    -- for the rows shown only
    select article_id, title from articles where article_id in (select article_id from newest)
),
final as (
    select coalesce(s.name, c.speaker) as speaker, c.cue, c.kind, c.content, t.title as article
    from newest as c
    join titles as t using (article_id)
    left join speakers as s on s.entity_id = c.speaker_entity_id
    order by c.ingested_at desc, c.article_id, c.claim_idx
)
select * from final
