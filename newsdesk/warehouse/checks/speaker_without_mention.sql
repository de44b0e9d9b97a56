-- Claims resolved to a speaker entity that the article never mentions.
with run_claims as (
    select c.article_id, c.claim_idx, c.speaker, c.speaker_entity_id
    from claims as c
    join articles as a using (article_id)
    where a.run_id = $run_id and a.article_id between $first_id and $last_id and c.speaker_entity_id is not null
)
select rc.*
from run_claims as rc
where not exists (
    select 1 from mentions as m
    where m.article_id = rc.article_id and m.entity_id = rc.speaker_entity_id
)
