-- first_in_article: the entity's first mention in its article (a batch holds every mention
-- of its articles), so top_entities counts articles per entity in one pass over mentions.
insert into mentions by name
select *, row_number() over (partition by article_id, entity_id order by mention_idx) = 1 as first_in_article
from batch_mentions
