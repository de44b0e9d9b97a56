select table_name, column_name
from information_schema.columns
where table_catalog = $catalog
