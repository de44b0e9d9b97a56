drop table if exists temp.run_entity_counts
