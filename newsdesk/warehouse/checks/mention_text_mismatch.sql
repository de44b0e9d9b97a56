-- Mentions whose stored text is not the article text at their offsets.
select m.article_id, m.mention_idx, m.text, substring(a.text, m.start_char + 1, m.end_char - m.start_char) as at_offsets
from mentions as m
join articles as a using (article_id)
where a.run_id = $run_id and a.article_id between $first_id and $last_id
  and substring(a.text, m.start_char + 1, m.end_char - m.start_char) <> m.text
