-- The columns of one table of an attached catalog, in their order.
select column_name
from information_schema.columns
where table_catalog = $catalog and table_schema = 'main' and table_name = $table
order by ordinal_position
