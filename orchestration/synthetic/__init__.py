"""Sample-data generator: writes extract files exactly as the landing contract says."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from orchestration.config import SAMPLE_MANIFEST
from orchestration.synthetic import practices, staff
from orchestration.synthetic.reference import Reference
from orchestration.synthetic.writer import write

log = logging.getLogger(__name__)

DEFAULT_SCALE = 0.02
DEFAULT_YEARS = (2020, 2021)
DEFAULT_SEED = 2021
ALL_FAMILIES = ("practices", "staff")


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
    first = date(first_year, 1, 1)
    last = date(last_year, 12, 1)
    ref = Reference()
    # One independent stream per family, so adding a family never changes another's bytes.
    streams = np.random.SeedSequence(seed).spawn(8)
    files: list[Path] = []
    rows: dict[str, int] = {}
    con = duckdb.connect()
    con.execute("set threads = 1; set preserve_insertion_order = true")
    try:
        if "practices" in families:
            rng = np.random.default_rng(streams[0])
            sim = practices.simulate(ref, scale, opening, last, rng)
            for month, df in practices.deliveries(sim, ref, opening, last).items():
                files.append(write(con, "practices", month, df, out, fmt))
                rows["practices"] = rows.get("practices", 0) + len(df)
        if "staff" in families:
            rng = np.random.default_rng(streams[1])
            for month, df in staff.generate(ref, scale, first, last, rng).items():
                files.append(write(con, "staff", month, df, out, fmt))
                rows["staff"] = rows.get("staff", 0) + len(df)
    finally:
        con.close()
    (out / SAMPLE_MANIFEST).write_text(
        json.dumps({"generator": "piramide", "scale": scale, "years": list(years), "seed": seed, "format": fmt}) + "\n"
    )
    log.info("generated %d files: %s", len(files), rows)
    return GenerateResult(files, rows)
