-- Stances whose content is out of range or not the article text at its offsets.
select s.article_id, s.stance_idx, s.content_start, s.content_end
from stances as s
join articles as a using (article_id)
where a.run_id = $run_id and a.article_id between $first_id and $last_id
  and (s.content_start < 0 or s.content_end > length(a.text) or s.content_end <= s.content_start
       or substring(a.text, s.content_start + 1, s.content_end - s.content_start) <> s.content)
