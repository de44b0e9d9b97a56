-- A lake-wide DuckLake option, kept in the catalog: every writer follows it, whatever its version.
call news.set_option($name, $value)
