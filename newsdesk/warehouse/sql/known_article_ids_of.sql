-- known_article_ids for some articles only: a run over a few files asks about the
-- articles its batch read instead of fetching every id (0.1-0.2 s at 100,000).
select article_id, extractor_version
from articles
where article_id in (select unnest($ids::varchar[]))
