-- How often a run mentions each of the named entities under each label (mentions
-- without a label have none to give).
select m.entity_name as name, m.label, count(*) as mentions
from mentions as m
where list_contains($names, m.entity_name)
  and m.label is not null
  and m.article_id in (select article_id from articles where run_id = $run_id)
group by all
