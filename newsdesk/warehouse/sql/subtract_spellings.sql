-- The mentions of the articles in batch_replaced, counted per spelling (-), in the commit
-- that deletes them: run before the delete. Rows from before first_in_article (null)
-- are judged as insert_mentions.sql judges them.
insert into entity_spellings
select entity_id, entity_name, label, text, -count(*) as mentions, -count(*) filter (where is_first) as articles
from (
    select *, coalesce(
        first_in_article, row_number() over (partition by article_id, entity_id order by mention_idx) = 1
    ) as is_first
    from mentions
    where article_id in (select article_id from batch_replaced)
)
where entity_id is not null
group by entity_id, entity_name, label, text
