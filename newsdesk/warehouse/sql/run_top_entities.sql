-- The run's most mentioned entities, from its slices' counts (add_run_entity_counts).
select name, sum(articles) as articles, sum(mentions) as mentions
from temp.run_entity_counts
group by name
order by articles desc, mentions desc, name
limit $limit
