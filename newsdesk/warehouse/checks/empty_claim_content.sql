-- Claims with nothing asserted.
select c.article_id, c.claim_idx, c.speaker, c.cue
from claims as c
join articles as a using (article_id)
where a.run_id = $run_id
  and trim(coalesce(c.content, '')) = ''
