-- The batch's mentions, counted per spelling (+), in the commit that writes them.
-- "First in its article" as insert_mentions.sql computes it.
insert into entity_spellings
select entity_id, entity_name, label, text, count(*) as mentions, count(*) filter (where is_first) as articles
from (
    select *, row_number() over (partition by article_id, entity_id order by mention_idx) = 1 as is_first
    from batch_mentions
)
where entity_id is not null
group by entity_id, entity_name, label, text
