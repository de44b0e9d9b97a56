-- Numbers whose claim_idx names no stored claim of their article (numeric_claims joins them
-- to their claim after choosing the newest, so such a number would leave a gap there).
select q.article_id, q.quantity_idx, q.claim_idx
from quantities as q
join articles as a using (article_id)
where a.run_id = $run_id and a.article_id between $first_id and $last_id
  and q.claim_idx is not null
  and not exists (select 1 from claims as c where c.article_id = q.article_id and c.claim_idx = q.claim_idx)
