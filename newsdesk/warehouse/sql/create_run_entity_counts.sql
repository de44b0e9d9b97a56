-- Per-slice entity counts of the run being reported, in this session only.
create or replace temp table run_entity_counts (name varchar, articles bigint, mentions bigint)
