-- One slice of a run's articles: in how many of them, and how often, each entity is
-- mentioned. Slices share no article, so the run's counts are the sums over slices.
insert into temp.run_entity_counts
select m.entity_name as name, count(distinct m.article_id) as articles, count(*) as mentions
from mentions as m
join articles as a using (article_id)
where a.run_id = $run_id and a.article_id between $first_id and $last_id
group by m.entity_name
