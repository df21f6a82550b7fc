"""Sample-data generator: writes extract files exactly as the landing contract says."""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from orchestration.config import SAMPLE_MANIFEST
from orchestration.synthetic.reference import Reference
from orchestration.synthetic.writer import write, write_chunked

log = logging.getLogger(__name__)

DEFAULT_SCALE = 0.02
DEFAULT_YEARS = (2020, 2021)
DEFAULT_SEED = 2021
# A family module orchestration.synthetic.<family> exposes
#   deliveries(ref, scale, opening, last, rng) -> {month: DataFrame with the contract's columns}
# and, when a family is too large to simulate at once (practices, contacts), also
#   delivery_chunks(ref, scale, opening, last, rng) -> an iterator of such dicts, one per group of structures,
# whose months concatenated in order are the files (orchestration.synthetic.chunks).
# The order is fixed so that each family keeps its own random stream whatever else is generated.
FAMILY_ORDER = ("practices", "staff", "contacts", "costs", "revenue", "survey", "milestones", "measures")
ALL_FAMILIES = tuple(f for f in FAMILY_ORDER if importlib.util.find_spec(f"orchestration.synthetic.{f}") is not None)


@dataclass(frozen=True)
class GenerateResult:
    files: list[Path]
    rows: dict[str, int]


def generate(
    out: Path,
    scale: float = DEFAULT_SCALE,
    years: tuple[int, ...] = DEFAULT_YEARS,
    seed: int = DEFAULT_SEED,
    fmt: str = "parquet",
    families: tuple[str, ...] = ALL_FAMILIES,
) -> GenerateResult:
    """Generate the opening month (December before the first year) and every month of `years`."""
    if fmt not in ("parquet", "csv"):
        raise ValueError("format must be parquet or csv")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    first_year, last_year = min(years), max(years)
    opening = date(first_year - 1, 12, 1)
    last = date(last_year, 12, 1)
    ref = Reference(seed=seed)
    # One independent stream per family, so adding a family never changes another's bytes.
    streams = np.random.SeedSequence(seed).spawn(8)
    files: list[Path] = []
    rows: dict[str, int] = {}
    con = duckdb.connect()
    con.execute("set threads = 1; set preserve_insertion_order = true")
    try:
        for i, fam in enumerate(FAMILY_ORDER):
            if fam not in families:
                continue
            module = importlib.import_module(f"orchestration.synthetic.{fam}")
            rng = np.random.default_rng(streams[i])
            if hasattr(module, "delivery_chunks"):
                # Simulated group of structures by group (bounded memory), concatenated into one file a month.
                written = write_chunked(con, fam, module.delivery_chunks(ref, scale, opening, last, rng), out, fmt)
            else:
                written = [
                    (write(con, fam, month, df, out, fmt), len(df))
                    for month, df in module.deliveries(ref, scale, opening, last, rng).items()
                ]
            for path, n in written:
                files.append(path)
                rows[fam] = rows.get(fam, 0) + n
    finally:
        con.close()
    (out / SAMPLE_MANIFEST).write_text(
        json.dumps({"generator": "piramide", "scale": scale, "years": list(years), "seed": seed, "format": fmt}) + "\n"
    )
    log.info("generated %d files: %s", len(files), rows)
    return GenerateResult(files, rows)
