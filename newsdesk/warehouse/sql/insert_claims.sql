insert into claims by name select * from batch_claims
