"""Chunked simulation: bound the generator's memory at any scale, keep its bytes deterministic.

A family simulated per record (practices, contacts) draws its per-structure parameters once, then simulates
groups of production structures one after the other, each with its own random stream spawned from the
family's, and hands back one {month: frame} per group. `generate` writes each group's months as hidden part
files and concatenates them, in group order, into one file per month.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

# Records simulated at once: about 1-1.5 GB of numpy and pandas working memory per chunk.
CHUNK_RECORDS = 3_000_000


def structure_chunks(expected: np.ndarray, target: float = CHUNK_RECORDS) -> list[np.ndarray]:
    """Contiguous groups of structure indices whose expected record counts sum to about `target`."""
    groups: list[np.ndarray] = []
    start, acc = 0, 0.0
    for i, e in enumerate(expected):
        acc += float(e)
        if acc >= target:
            groups.append(np.arange(start, i + 1))
            start, acc = i + 1, 0.0
    if start < len(expected):
        groups.append(np.arange(start, len(expected)))
    return groups


def chunk_streams(rng: np.random.Generator, n: int) -> list[np.random.Generator]:
    """One independent stream per chunk, drawn from the family's stream (deterministic for a seed)."""
    seeds = rng.integers(0, 2**63 - 1, n, dtype=np.int64)
    return [np.random.default_rng(int(s)) for s in seeds]


def serial_ids(prefix: str, start: int, n: int, width: int) -> np.ndarray:
    """prefix + zero-padded serials start..start+n-1, vectorised (np.char.zfill is a Python loop per item)."""
    nums = np.arange(start, start + n, dtype=np.int64)
    pre = np.frombuffer(prefix.encode(), dtype=np.uint8)
    out = np.empty((n, len(pre) + width), dtype=np.uint8)
    out[:, : len(pre)] = pre
    for j in range(len(pre) + width - 1, len(pre) - 1, -1):
        out[:, j] = 48 + nums % 10
        nums //= 10
    size = len(pre) + width
    return out.view(f"S{size}").ravel().astype(f"U{size}")


def concat_chunks(chunks: Iterable[dict[date, pd.DataFrame]]) -> dict[date, pd.DataFrame]:
    """Every chunk's months concatenated in chunk order (in memory: for small scales and tests)."""
    parts: dict[date, list[pd.DataFrame]] = {}
    for chunk in chunks:
        for month, df in chunk.items():
            parts.setdefault(month, []).append(df)
    return {m: pd.concat(dfs, ignore_index=True) for m, dfs in sorted(parts.items())}
