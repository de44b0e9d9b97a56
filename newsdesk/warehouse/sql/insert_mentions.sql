insert into mentions by name select * from batch_mentions
