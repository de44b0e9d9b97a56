-- Who said what: the 1,000 newest attributed claims with speaker, cue, content and article.
with newest as (
    -- Rows are listed article by article, newest first. Every article older than the 1,000
    -- newest sorts after all of them, so when the articles at least as new as those hold
    -- 1,000 rows, the answer is there: at a million articles that joins about a thousand
    -- articles, not all of them. When they hold fewer, `every` reads every article; it is
    -- gated by `short`, which is empty otherwise, and DuckDB skips a join with an empty side.
    select ingested_at from articles order by ingested_at desc, article_id limit 1000
),
cut_articles as (
    select article_id, ingested_at from articles
    where coalesce(ingested_at >= (select min(ingested_at) from newest), true)
),
cut as (
    select c.article_id, c.claim_idx, c.kind, c.speaker, c.speaker_entity_id, c.cue, c.content, c.confidence,
        a.ingested_at
    from claims as c
    join cut_articles as a using (article_id)
    where c.kind <> 'unattributed'
    order by a.ingested_at desc, c.article_id, c.claim_idx
    limit 1000
),
short as (
    select 1 from cut having count(*) < 1000
),
every_article as (
    select a.article_id, a.ingested_at from articles as a cross join short
),
every as (
    select c.article_id, c.claim_idx, c.kind, c.speaker, c.speaker_entity_id, c.cue, c.content, c.confidence,
        a.ingested_at
    from claims as c
    join every_article as a using (article_id)
    where c.kind <> 'unattributed'
    order by a.ingested_at desc, c.article_id, c.claim_idx
    limit 1000
),
recent as (
    select * from cut where not exists (select 1 from short)  -- the cut holds 1,000
    union all
    select * from every
),
titles as (
    -- for the rows shown only
    select article_id, title from articles where article_id in (select article_id from recent)
),
speakers as (
    -- the entities view's name, as every report gives it: the most frequent, ties to the first
    -- in order, nulls skipped as mode() skips them; counted in entity_spellings (a spelling's
    -- rows sum to its live mentions)
    select entity_id, entity_name as name
    from (
        select entity_id, entity_name, sum(mentions) as n
        from entity_spellings
        where entity_id in (select speaker_entity_id from recent) and entity_name is not null
        group by entity_id, entity_name
        having sum(mentions) > 0
    )
    qualify row_number() over (partition by entity_id order by n desc, entity_name) = 1
),
final as (
    select
        coalesce(s.name, r.speaker) as speaker,
        r.speaker as speaker_as_written,
        r.cue,
        r.kind,
        r.content,
        t.title as article,
        r.confidence
    from recent as r
    join titles as t using (article_id)
    left join speakers as s on s.entity_id = r.speaker_entity_id
    order by r.ingested_at desc, r.article_id, r.claim_idx
)
select * from final
