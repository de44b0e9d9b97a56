-- A lake-wide DuckLake option, kept in the catalog: this session writes with it at once,
-- sessions that attach later load it.
call news.set_option($name, $value)
