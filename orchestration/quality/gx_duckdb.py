"""Great Expectations 1.x on DuckDB: the persisted-connection fix, a read-only datasource, and releasing the lock.

Why a patch (STACK_NOTES G1): GX's SQL execution engine runs each query inside `with engine.connect()` and fetches
the rows after the block has closed the connection. duckdb-engine's cursor is the connection, and closing it rolls
back, which wipes the pending result set: every expectation then fails with "list index out of range". GX keeps one
persistent connection for the dialects in the private tuple `_PERSISTED_CONNECTION_DIALECTS` (sqlite, mssql, ...);
adding DuckDB there makes GX fetch before anything closes. The name is private, so GX is pinned exactly
(pyproject) and tests/quality/test_gx_duckdb.py fails if an upgrade moves it or fixes the bug differently.

Why an explicit release (G2): two SQLAlchemy engines hold the DuckDB file (the datasource's own and the execution
engine's persistent connection); until both are gone, dbt or the loader in another process gets "Could not set
lock on file". `open_warehouse` closes both on exit, whatever happened inside.
"""

from __future__ import annotations

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

    # GX has no DuckDB type module and says so for every type expectation (STACK_NOTES G4): expected here, and the
    # type names in the suites are SQLAlchemy's for that reason.
    logging.getLogger("great_expectations.expectations.type_comparison").setLevel(logging.ERROR)
    if gx.__version__ != GX_VERSION:
        log.warning("great-expectations %s is not the verified %s: the DuckDB patch may not apply",
                    gx.__version__, GX_VERSION)
    current = see._PERSISTED_CONNECTION_DIALECTS
    if any(str(getattr(d, "value", d)) == "duckdb" for d in current):
        return
    see._PERSISTED_CONNECTION_DIALECTS = (*current, _DuckDBDialect("duckdb"))


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
    other connection to the same file in this process must be closed first (STACK_NOTES D7).
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
