-- The speaker's name is its resolved entity's name, as an analyst joining entities reads it.
-- Stances come too, flagged: attribution corpora (PolNeAR) count them, the statement gold does not.
-- In the article's order: matching breaks ties by position, so a score never depends on
-- the order a scan happened to return.
select article_id, content, speaker, speaker_start, speaker_end, kind, speaker_name, stance
from (
    select c.article_id, c.content, c.speaker, c.speaker_start, c.speaker_end, c.kind, e.name as speaker_name,
        false as stance, c.claim_idx as idx
    from claims as c
    left join entities as e on e.entity_id = c.speaker_entity_id
    union all
    select s.article_id, s.content, s.holder, s.holder_start, s.holder_end, s.kind, e.name, true, s.stance_idx
    from stances as s
    left join entities as e on e.entity_id = s.holder_entity_id
)
order by article_id, stance, idx
