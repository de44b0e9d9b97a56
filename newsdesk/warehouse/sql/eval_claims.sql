-- The speaker's name is its resolved entity's name, as an analyst joining entities reads it.
select c.article_id, c.content, c.speaker, c.speaker_start, c.speaker_end, c.kind, e.name as speaker_name
from claims as c
left join entities as e on e.entity_id = c.speaker_entity_id
