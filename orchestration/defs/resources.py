"""The warehouse as a Dagster resource: assets ask for `warehouse` instead of opening DuckDB themselves.

It wraps orchestration.warehouse.connection (the project's settings, the lock reported as WarehouseBusy), and
opens the file only inside a step, for as long as the step needs it: a code server that keeps the definitions
loaded never holds the lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from orchestration.warehouse.connection import connect


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse of PIRAMIDE_WAREHOUSE (read when a step opens it, so tests can point it elsewhere)."""

    @contextmanager
    def get_connection(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(read_only=read_only)
        try:
            yield con
        finally:
            con.close()
