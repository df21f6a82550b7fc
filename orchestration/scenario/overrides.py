"""Parsing and validation of what-if overrides: `NODE.weight=VALUE` and `target.KPI[@STRUCTURE].YEAR=VALUE`.

Everything is checked against the warehouse before dbt runs, so a typo fails in a second with a message naming
the node, instead of a scenario silently equal to the baseline.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass

import duckdb

from orchestration.warehouse.vocabulary import NATION

# Node codes contain dots (A.1, IEEP.ENTRATE): the year and the keyword are matched from the right.
WEIGHT_RE = re.compile(r"(?P<node>[^=@\s]+)\.weight=(?P<value>.*)")
TARGET_RE = re.compile(r"target\.(?P<node>[^=@\s]+?)(?:@(?P<structure>[^=.@\s]+))?\.(?P<year>\d{4})=(?P<value>.*)")
SYNTAX = "NODE.weight=VALUE or target.KPI[@STRUCTURE].YEAR=VALUE"
NO_WEIGHT_KINDS = ("part", "reported", "root")
TARGET_KINDS = ("leaf", "part", "reported")
WEIGHT_TOLERANCE = 1e-9


class OverrideError(ValueError):
    """An override that cannot be applied; the message names the override and the node."""


@dataclass(frozen=True)
class Override:
    kind: str  # weight | target
    node_code: str
    structure_code: str | None
    year: int | None
    value: float
    spec: str


def _number(text: str, spec: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise OverrideError(f"{spec!r}: value {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise OverrideError(f"{spec!r}: value {text.strip()!r} is not a finite number")
    return value


def parse_override(spec: str) -> Override:
    """Syntax only; `validate_overrides` checks the names against the warehouse."""
    text = spec.strip()
    if text.startswith("target."):
        m = TARGET_RE.fullmatch(text)
        if not m:
            raise OverrideError(f"{spec!r}: a target override is target.KPI[@STRUCTURE].YEAR=VALUE "
                                "(e.g. target.IMP_REPUTATION.2021=3.10, target.IG_PSI@piemonte.2021=28)")
        structure = m.group("structure") or NATION
        return Override("target", m.group("node"), structure, int(m.group("year")), _number(m.group("value"), spec),
                        text)
    m = WEIGHT_RE.fullmatch(text)
    if not m:
        raise OverrideError(f"{spec!r} is not an override: use {SYNTAX}")
    value = _number(m.group("value"), spec)
    if not 0 <= value <= 1:
        raise OverrideError(f"{spec!r}: the weight of {m.group('node')} must be within [0, 1], not {value:g}")
    return Override("weight", m.group("node"), None, None, value, text)


def _unknown(what: str, name: str, known: list[str], spec: str) -> OverrideError:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return OverrideError(f"unknown {what} {name!r} in {spec!r}{hint}")


def validate_overrides(con: duckdb.DuckDBPyConnection, overrides: list[Override]) -> None:
    """Raise OverrideError for the first override that names something unknown or cannot be applied."""
    nodes = {r[0]: (r[1], r[2], r[3]) for r in con.execute(
        "select node_code, parent_code, kind, period_basis from marts.dim_kpi"
    ).fetchall()}
    structures = [r[0] for r in con.execute("select structure_code from marts.dim_structure").fetchall()]
    years = {r[0] for r in con.execute("select distinct year(period_end) from marts.fct_kpi_scores").fetchall()}
    seen: set[tuple] = set()
    for o in overrides:
        key = (o.kind, o.node_code, o.structure_code, o.year)
        if key in seen:
            raise OverrideError(f"{o.spec!r}: {o.node_code} is overridden twice")
        seen.add(key)
        if o.node_code not in nodes:
            raise _unknown("node" if o.kind == "weight" else "KPI", o.node_code, list(nodes), o.spec)
        parent, kind, basis = nodes[o.node_code]
        if o.kind == "weight":
            if kind in NO_WEIGHT_KINDS:
                raise OverrideError(f"{o.spec!r}: {o.node_code} ({kind}) has no weight in the pyramid")
            continue
        if kind == "composite":
            parts = sorted(n for n, v in nodes.items() if v[0] == o.node_code)
            raise OverrideError(f"{o.spec!r}: {o.node_code} is a composite (its target is an achievement of 1); "
                                f"override its parts' targets: {', '.join(parts)}")
        if basis == "completion":
            raise OverrideError(f"{o.spec!r}: {o.node_code} is a milestone leaf whose target is the planned "
                                "completion from the project register, not a seed target")
        if kind not in TARGET_KINDS:
            raise OverrideError(f"{o.spec!r}: {o.node_code} ({kind}) has no target of its own: its score is the "
                                "weighted mean of its children")
        if o.structure_code not in structures:
            raise _unknown("structure", o.structure_code, structures, o.spec)
        if o.year not in years:
            raise OverrideError(f"{o.spec!r}: no month-end of {o.year} in the warehouse (years: "
                                f"{', '.join(str(y) for y in sorted(years))})")
        if o.value == 0 and kind == "leaf":
            raise OverrideError(f"{o.spec!r}: a target of 0 on the scored KPI {o.node_code} is a configuration error")
        exists = con.execute(
            "select count(*) from intermediate.int_kpi_grid where node_code = ? and structure_code = ? and year = ?",
            [o.node_code, o.structure_code, o.year],
        ).fetchone()[0]
        if not exists:
            raise OverrideError(f"{o.spec!r}: {o.node_code} is not computed at {o.structure_code} in {o.year} "
                                "(not applicable at its level, or no structure target there)")
    _check_rescaling(con, [o for o in overrides if o.kind == "weight"])


def _check_rescaling(con: duckdb.DuckDBPyConnection, weights: list[Override]) -> None:
    """Siblings can absorb the change: the fixed weights under a parent leave room, and some sibling is free."""
    if not weights:
        return
    fixed = {o.node_code: o for o in weights}
    rows = con.execute(
        "select level, parent_code, node_code, weight from intermediate.int_kpi_weights "
        "where parent_code in (select parent_code from intermediate.int_kpi_weights where list_contains(?, node_code))",
        [list(fixed)],
    ).fetchall()
    groups: dict[tuple, list[tuple]] = {}
    for level, parent, node, weight in rows:
        groups.setdefault((level, parent), []).append((node, weight or 0.0))
    for (level, parent), members in sorted(groups.items()):
        fixed_total = sum(fixed[n].value for n, _ in members if n in fixed)
        free_total = sum(w for n, w in members if n not in fixed)
        names = ", ".join(fixed[n].spec for n, _ in members if n in fixed)
        if fixed_total > 1 + WEIGHT_TOLERANCE:
            raise OverrideError(f"{names}: the fixed weights under {parent} sum to {fixed_total:g} > 1")
        if free_total <= 0 and abs(fixed_total - 1) > WEIGHT_TOLERANCE:
            alone = [n for n, _ in members if n in fixed]
            raise OverrideError(
                f"{names}: under {parent} (level {level}) no other sibling of {', '.join(alone)} carries weight, so "
                f"the weights cannot be rescaled to sum to 1 (they would sum to {fixed_total:g})"
            )
