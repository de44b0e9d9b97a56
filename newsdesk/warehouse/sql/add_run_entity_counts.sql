-- One slice of a run's articles: in how many of them, and how often, each named entity
-- is mentioned. Slices share no article, so the run's counts are the sums over slices.
-- A semi-join, so an article stored twice in the run does not count its mentions twice.
insert into temp.run_entity_counts
select m.entity_name as name, count(distinct m.article_id) as articles, count(*) as mentions
from mentions as m
where m.entity_name is not null
  and m.article_id in (
      select article_id from articles where run_id = $run_id and article_id between $first_id and $last_id
  )
group by m.entity_name
