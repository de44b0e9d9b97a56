-- Claims whose content is out of range or not the article text at its offsets
-- (with an interrupting attribution cut out: the text before the gap, a space, the text after).
select c.article_id, c.claim_idx, c.content_start, c.content_end
from claims as c
join articles as a using (article_id)
where a.run_id = $run_id and a.article_id between $first_id and $last_id
  and (c.content_start < 0 or c.content_end > length(a.text)
       or c.content <> case
           when c.content_gap_start is null
               then substring(a.text, c.content_start + 1, c.content_end - c.content_start)
           else substring(a.text, c.content_start + 1, c.content_gap_start - c.content_start) || ' '
               || substring(a.text, c.content_gap_end + 1, c.content_end - c.content_gap_end)
       end)
