-- One lake-wide DuckLake option as the catalog stores it (a string), or no row when unset.
select value
from news.options()
where option_name = $name and scope = 'GLOBAL'
