"""The warehouse's owner: the one way to open the DuckDB file and the one way to run dbt against it."""
