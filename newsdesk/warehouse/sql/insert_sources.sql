insert into sources by name select * from batch_sources
