-- Claims with nothing asserted.
select c.article_id, c.claim_idx, c.speaker, c.cue
from claims as c
join articles as a using (article_id)
where a.run_id = $run_id and a.article_id between $first_id and $last_id
  and trim(coalesce(c.content, '')) = ''
