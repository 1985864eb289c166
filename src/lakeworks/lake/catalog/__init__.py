"""The data catalog (Glue semantics), crawlers and SQL over the lake (Athena semantics).

``service.py`` holds databases, tables, partitions and table versions; ``crawlers.py`` the
crawlers that fill the catalog from lake data (``crawl.py``, ``classify.py``, ``cron.py``);
``queries.py`` the Athena-style query executions and workgroups that run SQL with DuckDB
(``sql.py``, ``ddl.py``, ``results.py``). Pure helpers: ``names.py``, ``types.py``,
``formats.py``, ``expressions.py``.
"""
