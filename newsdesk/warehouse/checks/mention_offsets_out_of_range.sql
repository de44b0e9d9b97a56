-- Mentions whose offsets fall outside their article's text.
select m.article_id, m.mention_idx, m.start_char, m.end_char, length(a.text) as text_length
from mentions as m
join articles as a using (article_id)
where a.run_id = $run_id and a.article_id between $first_id and $last_id
  and (m.start_char < 0 or m.end_char > length(a.text) or m.start_char >= m.end_char)
