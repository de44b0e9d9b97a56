-- How often a run mentions each of the named entities under each label.
select m.entity_name as name, m.label, count(*) as mentions
from mentions as m
join articles as a using (article_id)
where a.run_id = $run_id and list_contains($names, m.entity_name)
group by all
