-- Claims whose content is out of range or not the article text at its offsets.
select c.article_id, c.claim_idx, c.content_start, c.content_end
from claims as c
join articles as a using (article_id)
where a.run_id = $run_id
  and (c.content_start < 0 or c.content_end > length(a.text)
       or substring(a.text, c.content_start + 1, c.content_end - c.content_start) <> c.content)
