-- entity_spellings anew from mentions, one row per spelling (after `delete from
-- entity_spellings`, in the same transaction): `maintain` and an upgrade run it.
-- Only rows from before first_in_article (null) need the window: one commit wrote all
-- of an article's mentions, so an article's rows are all flagged or all null.
insert into entity_spellings
with flagged as (
    select entity_id, entity_name, label, text, first_in_article as is_first
    from mentions
    where entity_id is not null and first_in_article is not null
),
unflagged as (
    select entity_id, entity_name, label, text,
        row_number() over (partition by article_id, entity_id order by mention_idx) = 1 as is_first
    from mentions
    where entity_id is not null and first_in_article is null
)
select entity_id, entity_name, label, text, count(*) as mentions, count(*) filter (where is_first) as articles
from (select * from flagged union all select * from unflagged)
group by entity_id, entity_name, label, text
