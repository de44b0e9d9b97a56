insert into quantities by name select * from batch_quantities
