"""What the terminal shows of a publication diff and of a what-if: presentation only, the work is elsewhere."""

from __future__ import annotations

import json

from orchestration.publication.diff import Diff
from orchestration.scenario.whatif import TOLERANCE, ScenarioResult
from orchestration.warehouse.vocabulary import NATION


def _big(v, digits=3) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1e5 else f"{v:,.{digits}f}"


SHORT = {"actual_value": "actual", "numerator": "num", "denominator": "den", "target_value": "target",
         "weight_coverage": "coverage"}


def print_diff(d: Diff, show_all: bool = False, limit: int = 25) -> None:
    p = d.publication
    print(f"diff {d.period_end:%Y-%m} against publication {p['publication_id']} (version {p['version']}, "
          f"published {p['published_at']:%Y-%m-%d %H:%M} by {p['published_by'] or '?'}"
          + (", FORCED" if p["forced"] else "") + ")")
    print(f"  publication integrity: {'ok' if d.integrity_ok else 'FAILED - published rows were altered'}")
    causes = d.causes
    print("causes:" if causes else "causes: none (same deliveries, seeds and code)")
    for c in causes:
        print(f"  {c}")
    if not d.rows:
        print(f"no node moved ({d.unchanged:,} rows identical)")
        return
    structures = {r["structure_code"] for r in d.rows}
    print(f"{len(d.rows):,} node rows moved at {len(structures)} structure(s); {d.unchanged:,} unchanged")
    nation = [r for r in d.rows if r["structure_code"] == NATION]
    others = [r for r in d.rows if r["structure_code"] != NATION]
    if not show_all:
        others = sorted(others, key=lambda r: -abs(r["delta"] or 0))[:limit]
    print(f"  {'structure':<22} {'node':<28} {'published':>10} {'today':>10} {'delta':>9}  {'coverage':<11}  "
          "cause  [what moved]")
    for r in nation + others:
        cov = f"{_big(r['published_weight_coverage'], 2)}->{_big(r['current_weight_coverage'], 2)}"
        delta = "-" if r["delta"] is None else f"{r['delta']:+.3f}"
        moved = ",".join(SHORT.get(c, c) for c in r["changed"])
        print(f"  {r['structure_code']:<22} {'  ' * min(r['depth'], 4) + r['node_code']:<28} "
              f"{_big(r['published_score']):>10} {_big(r['current_score']):>10} {delta:>9}  {cov:<11}  "
              f"{'; '.join(r['causes'])}  [{moved}]")
    hidden = len([r for r in d.rows if r["structure_code"] != NATION]) - len(others)
    if hidden > 0:
        print(f"  ... {hidden:,} more rows at other structures, largest moves shown (--all shows every row)")


def _f(v, digits=3) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def print_result(r: ScenarioResult, show_all: bool = False) -> None:
    state = "saved" if r.saved else "not saved: --save --name NAME keeps it"
    print(f"what-if {r.name!r} at {r.period_end:%Y-%m} ({state}); {len(r.overrides)} override(s):")
    for o in r.overrides:
        print(f"  {o.spec}")
    if r.weights:
        print("  weights in the parent (national level; the same rescaling applies at every level):")
        for _level, parent, node, before, after in r.weights:
            print(f"    {parent:<14} {node:<26} {before:.4f} -> {after:.4f}")
    for node, structure, plan_before, plan_after, before, after in r.targets:
        print(f"  target {node}@{structure}: annual {_f(plan_before, 4)} -> {_f(plan_after, 4)}; "
              f"month-end {r.period_end:%Y-%m} {_f(before, 4)} -> {_f(after, 4)} (profile and sample scale applied)")
    nation = [x for x in r.rows if x[0] == NATION]
    others = [x for x in r.rows if x[0] != NATION]
    if not r.rows:
        print("no node changed at this month-end")
        return
    print(f"{NATION:<34} {'weight':>13} {'baseline':>9} {'scenario':>9} {'delta':>9}  coverage")
    for _s, node, _kind, level, bw, sw, bs, ss, delta, _bc, sc in nation:
        weight = f"{_f(bw)}" if abs((bw or 0) - (sw or 0)) <= TOLERANCE else f"{_f(bw)}->{_f(sw)}"
        print(f"  {'  ' * min(level, 4) + node:<32} {weight:>13} {_f(bs):>9} {_f(ss):>9} "
              f"{'-' if delta is None else f'{delta:+.3f}':>9}  {_f(sc, 2)}")
    if not others:
        return
    structures = {x[0] for x in others}
    if show_all:
        print(f"other structures ({len(structures)}):")
        for s, node, _kind, _level, _bw, _sw, bs, ss, delta, _bc, _sc in others:
            print(f"  {s:<20} {node:<24} {_f(bs):>9} {_f(ss):>9} {'-' if delta is None else f'{delta:+.3f}':>9}")
        return
    print(f"other structures: {len(others):,} changed rows at {len(structures)} structures (--all lists them)")
    by_node: dict[str, list[float]] = {}
    for x in others:
        by_node.setdefault(x[1], []).append(x[8] if x[8] is not None else float("nan"))
    print(f"  {'node':<26} {'structures':>10} {'min delta':>10} {'mean delta':>10} {'max delta':>10}")
    for node, deltas in sorted(by_node.items(), key=lambda kv: -len(kv[1])):
        vals = [d for d in deltas if d == d]
        if vals:
            print(f"  {node:<26} {len(deltas):>10} {min(vals):>+10.3f} {sum(vals) / len(vals):>+10.3f} "
                  f"{max(vals):>+10.3f}")
        else:
            print(f"  {node:<26} {len(deltas):>10} (score appears or disappears)")


def print_list(rows: list[tuple]) -> None:
    if not rows:
        print("no saved scenario")
        return
    for name, created, note, overrides in rows:
        specs = ", ".join(json.loads(overrides))
        print(f"{name:<20} saved {created:%Y-%m-%d %H:%M}  {specs}" + (f"  ({note})" if note else ""))
