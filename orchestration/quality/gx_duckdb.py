"""Great Expectations 1.x on DuckDB: the persisted-connection fix, a read-only datasource, and releasing the lock.

Why a patch (docs/stack_notes.md §7): GX's SQL engine runs each query inside `with engine.connect()` and fetches
the rows after the block has closed the connection. duckdb-engine's cursor is the connection, and closing it rolls
back, which wipes the pending result set: every expectation then fails with "list index out of range". GX keeps one
persistent connection for the dialects in the private tuple `_PERSISTED_CONNECTION_DIALECTS` (sqlite, mssql, ...);
adding DuckDB there makes GX fetch before anything closes. The name is private, so GX is pinned exactly
(pyproject) and tests/quality/test_gx_duckdb.py fails if an upgrade moves it or fixes the bug differently.

Why an explicit release (G2): two SQLAlchemy engines hold the DuckDB file (the datasource's own and the execution
engine's persistent connection); until both are gone, dbt or the loader in another process gets "Could not set
lock on file". `open_warehouse` closes both on exit, whatever happened inside.

Why two faster metric implementations (DuckDB only, same values; other dialects keep GX's own):
- an UnexpectedRowsExpectation needs the query's row count and its first rows, which GX computes with two
  separate executions of the query (each a full scan of a raw table); here one execution materialises the
  query's rows once (key columns only) and returns both the count and the first `MAX_RESULT_RECORDS` rows;
- ExpectCompoundColumnsToBeUnique maps every row to the size of its key group, which GX builds as a join of the
  batch (every column) with a GROUP BY of it; a window count over the key columns gives the same sizes without the
  join (rows with a null key column get no size, as the join's equality drops them), at a third of the time.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

GX_VERSION = "1.24.1"  # the version the patch was verified on; see the module docstring


class _DuckDBDialect(str):
    """An entry GX accepts in its dialect tuple: compared as a string in one place and through `.value` in another."""

    @property
    def value(self) -> str:
        return str(self)


def apply_duckdb_patch() -> None:
    """Make GX keep one connection per DuckDB execution engine (idempotent)."""
    # GX sends usage analytics unless told not to; a warehouse job must never call out.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    # GX has no DuckDB type module and says so for every type expectation (docs/stack_notes.md §9): expected here, and
    # the type names in the suites are SQLAlchemy's for that reason.
    logging.getLogger("great_expectations.expectations.type_comparison").setLevel(logging.ERROR)
    if gx.__version__ != GX_VERSION:
        log.warning("great-expectations %s is not the verified %s: the DuckDB patch may not apply",
                    gx.__version__, GX_VERSION)
    current = see._PERSISTED_CONNECTION_DIALECTS
    if any(str(getattr(d, "value", d)) == "duckdb" for d in current):
        return
    see._PERSISTED_CONNECTION_DIALECTS = (*current, _DuckDBDialect("duckdb"))
    _patch_metrics()


def _is_duckdb(execution_engine) -> bool:
    return getattr(execution_engine, "dialect_name", None) == "duckdb"


def _like(fn, original):
    """Give a replacement metric function the attributes GX's decorators put on the original."""
    for attr in ("metric_engine", "metric_fn_type", "metric_definition_kwargs", "domain_type"):
        if hasattr(original, attr):
            setattr(fn, attr, getattr(original, attr))
    return fn


def _rows_and_count(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs) -> tuple[int, list[dict]]:
    """Count and first rows of an unexpected-rows query from one execution, cached on the execution engine."""
    from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa
    from great_expectations.constants import MAX_RESULT_RECORDS
    from great_expectations.core.metric_domain_types import MetricDomainTypes

    batch_selectable, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs,
                                                                 domain_type=MetricDomainTypes.TABLE)
    query = cls._get_query_from_metric_value_kwargs(metric_value_kwargs)
    sub = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
        query=query, batch_selectable=batch_selectable, execution_engine=execution_engine)
    cache = execution_engine.__dict__.setdefault("_piramide_unexpected_rows", {})
    if sub not in cache:
        n = "__piramide_unexpected_row_count"
        # The suite's own query as GX substituted it (suites.py composes it from contract identifiers only).
        combined = (f"WITH __piramide_q AS MATERIALIZED ({sub}) "  # noqa: S608
                    f"SELECT *, (SELECT COUNT(*) FROM __piramide_q) AS {n} FROM __piramide_q "
                    f"LIMIT {int(MAX_RESULT_RECORDS)}")
        rows = execution_engine.execute_query(sa.text(combined)).fetchall()
        count = int(rows[0][-1]) if rows else 0
        cache[sub] = (count, [{k: v for k, v in r._asdict().items() if k != n} for r in rows])
    return cache[sub]


def _patch_metrics() -> None:
    import great_expectations.expectations.metrics  # noqa: F401 - registers the metrics
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations.metrics.map_metric_provider.multicolumn_function_partial import (
        multicolumn_function_partial,
    )
    from great_expectations.expectations.registry import _registered_metrics

    engine_name = SqlAlchemyExecutionEngine.__name__
    table_cls, table_fn = _registered_metrics["unexpected_rows_query.table"]["providers"][engine_name]
    count_cls, count_fn = _registered_metrics["unexpected_rows_query.row_count"]["providers"][engine_name]

    def rows_table(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics,
                   runtime_configuration):
        if not _is_duckdb(execution_engine) or metric_value_kwargs.get("fetch_all"):
            return table_fn(cls=cls, execution_engine=execution_engine, metric_domain_kwargs=metric_domain_kwargs,
                            metric_value_kwargs=metric_value_kwargs, metrics=metrics,
                            runtime_configuration=runtime_configuration)
        return list(_rows_and_count(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs)[1])

    def rows_count(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics,
                   runtime_configuration):
        if not _is_duckdb(execution_engine):
            return count_fn(cls=cls, execution_engine=execution_engine, metric_domain_kwargs=metric_domain_kwargs,
                            metric_value_kwargs=metric_value_kwargs, metrics=metrics,
                            runtime_configuration=runtime_configuration)
        return _rows_and_count(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs)[0]

    _registered_metrics["unexpected_rows_query.table"]["providers"][engine_name] = (
        table_cls, _like(rows_table, table_fn))
    _registered_metrics["unexpected_rows_query.row_count"]["providers"][engine_name] = (
        count_cls, _like(rows_count, count_fn))

    map_cls, map_fn = _registered_metrics["compound_columns.count.map"]["providers"][engine_name]
    original_map = inspect.unwrap(map_fn)

    def group_sizes(cls, column_list, **kwargs):
        if getattr(kwargs.get("_sqlalchemy_engine"), "dialect", None) is None \
                or kwargs["_sqlalchemy_engine"].dialect.name != "duckdb":
            return original_map(cls, column_list, **kwargs)
        from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa

        keys = [sa.column(c) for c in kwargs["_column_names"]]
        size = sa.case((sa.and_(*(k.isnot(None) for k in keys)), sa.func.count().over(partition_by=keys)),
                       else_=sa.null())
        return (sa.select(*(sa.column(c) for c in kwargs["_table_columns"]), size.label("_num_rows"))
                .select_from(kwargs["_table"]).alias("records_with_grouped_column_counts_subquery"))

    _registered_metrics["compound_columns.count.map"]["providers"][engine_name] = (
        map_cls, multicolumn_function_partial(engine=SqlAlchemyExecutionEngine)(group_sizes))


def new_context(docs_dir: Path | None = None):
    """An in-memory GX context (nothing written unless Data Docs are asked for), progress bars off."""
    apply_duckdb_patch()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites["local_site"] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
    )
    return gx.get_context(project_config=config, mode="ephemeral")


@contextmanager
def open_warehouse(context, warehouse: Path, name: str = "warehouse") -> Iterator:
    """A read-only GX SQL datasource on the warehouse file; both engines are disposed on exit.

    Read-only, so validating never competes with a writer for the lock and a BI reader can validate too. Any
    other connection to the same file in this process must be closed first (docs/stack_notes.md §3).
    """
    from orchestration.config import settings

    s = settings()
    connect_args = {"read_only": True, "config": {"memory_limit": s.memory_limit, "threads": s.threads}}
    ds = context.data_sources.add_sql(
        name=name,
        connection_string=f"duckdb:///{Path(warehouse).resolve()}",
        kwargs={"connect_args": connect_args},
        create_temp_table=False,
    )
    try:
        yield ds
    finally:
        release(ds)


def release(ds) -> None:
    """Close the persistent connection and dispose both engines, so the DuckDB file lock is free again.

    Reads the datasource's cached engines directly: the public getters would create (and connect) a new engine
    when none exists, taking the lock this function is meant to free.
    """
    engine = getattr(ds, "_execution_engine", None)
    if engine is not None:
        conn = getattr(engine, "_connection", None)
        if conn is not None:
            try:
                conn.close()
            finally:
                engine._connection = None
        engine.engine.dispose()
        ds._execution_engine = None
    sa_engine = getattr(ds, "_engine", None)
    if sa_engine is not None:
        sa_engine.dispose()
        ds._engine = None
