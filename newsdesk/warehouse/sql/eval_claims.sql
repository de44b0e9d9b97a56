-- The speaker's name is its resolved entity's name, as an analyst joining entities reads it.
-- Stances come too, flagged: attribution corpora (PolNeAR) count them, the statement gold does not.
select c.article_id, c.content, c.speaker, c.speaker_start, c.speaker_end, c.kind, e.name as speaker_name,
    false as stance
from claims as c
left join entities as e on e.entity_id = c.speaker_entity_id
union all
select s.article_id, s.content, s.holder, s.holder_start, s.holder_end, s.kind, e.name, true
from stances as s
left join entities as e on e.entity_id = s.holder_entity_id
