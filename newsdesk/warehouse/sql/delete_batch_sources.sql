delete from sources where path in (select path from batch_sources)
