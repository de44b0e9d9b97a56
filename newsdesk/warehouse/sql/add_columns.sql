-- Columns added after the first release (lake.ADDED_COLUMNS); DuckLake evolves the schema in place.
alter table sources add column if not exists ctime_ns bigint;
alter table articles add column if not exists published_raw varchar;
alter table claims add column if not exists content_gap_start integer;
alter table claims add column if not exists content_gap_end integer;
alter table mentions add column if not exists first_in_article boolean;
-- Rows written before the column: the entity's first mention in its article, by mention order.
update mentions as m
set first_in_article = f.is_first
from (
    select article_id, mention_idx,
        row_number() over (partition by article_id, entity_id order by mention_idx) = 1 as is_first
    from mentions
) as f
where m.first_in_article is null and m.article_id = f.article_id and m.mention_idx = f.mention_idx;
