-- Quantities whose text is not the article text at their offsets.
select q.article_id, q.quantity_idx, q.text
from quantities as q
join articles as a using (article_id)
where a.run_id = $run_id and a.article_id between $first_id and $last_id
  and substring(a.text, q.start_char + 1, q.end_char - q.start_char) <> q.text
