-- The warehouse contract. Idempotent: run on every writer connection.
-- Offsets are Unicode code points into articles.text.
create table if not exists sources (
    path varchar,               -- relative to seeds/
    content_sha256 varchar,     -- of the raw bytes
    size_bytes bigint,
    mtime_ns bigint,
    ctime_ns bigint,            -- inode change time: a quarantined file fixed by chmod is read again
    modified_at timestamptz,
    article_id varchar,
    status varchar,             -- ingested | quarantined | deleted
    error varchar,              -- why it was quarantined
    encoding varchar,
    first_seen_at timestamptz,
    last_seen_at timestamptz,
    run_id varchar
);
create table if not exists articles (
    article_id varchar,         -- first 16 hex digits of sha256(text)
    title varchar,
    text varchar,
    published_at timestamptz,
    published_raw varchar,      -- the date as the file gave it, kept when it could not be read
    language varchar,
    word_count integer,
    url varchar,
    source varchar,
    author varchar,
    run_id varchar,
    ingested_at timestamptz,
    extractor_version varchar,
    model varchar
);
create table if not exists mentions (
    article_id varchar,
    mention_idx integer,
    start_char integer,
    end_char integer,
    text varchar,
    label varchar,
    sentence_idx integer,
    entity_id varchar,
    entity_name varchar,
    extractor_version varchar,
    first_in_article boolean    -- the entity's first mention in its article: article counts need no (entity, article) grouping
);
-- How each entity is written, counted, so that a report names an entity (its most frequent
-- name) and counts its articles without reading every mention. Each batch commit appends
-- signed rows: + for the mentions it writes, - for those it deletes; a spelling's figure
-- is the sum of its rows. `maintain` rebuilds it from mentions, one row per spelling.
create table if not exists entity_spellings (
    entity_id varchar,
    entity_name varchar,
    label varchar,
    text varchar,
    mentions bigint,            -- mentions written so (negative: deleted)
    articles bigint             -- of those, the entity's first mention in its article
);
create table if not exists claims (
    article_id varchar,
    claim_idx integer,
    kind varchar,               -- direct | partial | indirect | unattributed
    speaker varchar,            -- surface text, as written
    speaker_entity_id varchar,
    speaker_start integer,
    speaker_end integer,
    cue varchar,
    cue_start integer,
    content varchar,
    content_start integer,
    content_end integer,
    sentence_idx integer,
    confidence double,
    extractor_version varchar,
    content_gap_start integer,  -- an attribution inside the quotation, cut out of content
    content_gap_end integer
);
-- What someone thinks, wants, plans or backs ("Cruz supports the ban"): attributed, but
-- no statement, so kept out of claims (PolNeAR's "attribution" counts both).
create table if not exists stances (
    article_id varchar,
    stance_idx integer,
    kind varchar,               -- direct | partial | indirect
    holder varchar,             -- surface text, as written
    holder_entity_id varchar,
    holder_start integer,
    holder_end integer,
    cue varchar,
    cue_start integer,
    content varchar,
    content_start integer,
    content_end integer,
    sentence_idx integer,
    confidence double,
    extractor_version varchar
);
create table if not exists quantities (
    article_id varchar,
    quantity_idx integer,
    claim_idx integer,          -- null: a number outside any claim
    value double,
    text varchar,
    unit varchar,
    start_char integer,
    end_char integer,
    sentence_idx integer,
    extractor_version varchar
);
create table if not exists runs (
    run_id varchar,
    flow_run_id varchar,
    trigger varchar,
    started_at timestamptz,
    finished_at timestamptz,
    status varchar,             -- running | completed | failed | abandoned (its process died)
    files_seen integer,
    files_pending integer,
    articles_added integer,
    articles_existing integer,
    articles_retired integer,
    quarantined integer,
    deleted integer,
    error varchar
);
create or replace view entities as
with mention_rows as (
    -- a mention keeps its leading article ("the White House"); an alias does not
    select m.entity_id, m.entity_name, m.label, regexp_replace(m.text, '^(the|The|THE)\s+', '') as alias,
        m.article_id, a.ingested_at
    from mentions as m
    join articles as a using (article_id)
),
final as (
    select
        entity_id,
        mode(entity_name order by entity_name) as name,  -- ties: the first name in order, the same in every report
        mode(label order by label) as label,
        list(distinct alias order by alias) as aliases,
        count(distinct article_id) as article_count,
        count(*) as mention_count,
        min(ingested_at) as first_seen_at
    from mention_rows
    group by entity_id
)
select * from final;
