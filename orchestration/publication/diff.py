"""`piramide diff`: today's scores of a month-end against a publication, node by node, with the cause of each move.

Causes are read from what the publication was stamped with, compared with today:
- a restated (or late) extract: the publication's delivery list against the ledger's current deliveries, kept
  when the delivery's earliest event month is on or before the month-end (a later event cannot move it);
- a changed seed: the hash of each seed file, and for the seeds whose content the publication kept, the rows;
- changed code: the package/commit stamp and the hash of the dbt models and macros.
A moved leaf is attributed to the restated extracts of the families it is computed from (the dbt lineage, as in
`piramide explain`), to the target seeds when its target moved, to the weight seeds when its weight moved; a node
above inherits the causes of its moved children.

`diff_rows(con, period, against)` returns plain dicts for the HTML report; `diff(...)` returns everything.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date

import duckdb

from orchestration.publication import store
from orchestration.publication.publish import NATION, PublicationError, parse_period

TOLERANCE = 1e-9
# Key columns of the seeds whose rows `diff` pairs old to new; other seeds fall back to their first column.
SEED_KEYS = {
    "kpi_targets.csv": ("node_code", "structure_code", "year"),
    "kpi_nodes.csv": ("node_code",),
    "perspective_weights.csv": ("level", "node_code"),
    "target_profiles.csv": ("node_code", "month"),
    "kpi_applicability.csv": ("node_code", "level"),
    "structures.csv": ("structure_code",),
}
TARGET_SEEDS = ("kpi_targets.csv", "target_profiles.csv")
WEIGHT_SEEDS = ("kpi_nodes.csv", "perspective_weights.csv")
COMPARED = ("score", "weight_coverage", "weight", "actual_value", "numerator", "denominator", "target_value")


@dataclass(frozen=True)
class DeliveryChange:
    kind: str  # restated | late | later | withdrawn
    family: str
    month: str
    file: str
    delivery_id: int | None
    published_file: str | None
    published_delivery_id: int | None
    rows_superseded: int | None
    rows_now: int | None
    min_event_month: str | None
    loaded_at: str | None

    @property
    def label(self) -> str:
        return f"{self.kind} {self.file}"

    def describe(self) -> str:
        if self.kind == "restated":
            same = "" if self.published_file == self.file else f" (was {self.published_file})"
            return (f"restated extract {self.file}{same}: delivery {self.published_delivery_id} superseded by "
                    f"{self.delivery_id} (loaded {self.loaded_at}), {_n(self.rows_superseded)} rows superseded, "
                    f"{_n(self.rows_now)} rows now, earliest event month {self.min_event_month[:7]}")
        if self.kind in ("late", "later"):
            return (f"{self.kind} extract {self.file}: delivery {self.delivery_id} (loaded {self.loaded_at}) was not "
                    f"in the publication, {_n(self.rows_now)} rows, earliest event month {self.min_event_month[:7]}")
        return f"extract {self.published_file} (delivery {self.published_delivery_id}) is no longer current"


@dataclass
class SeedChange:
    seed: str
    status: str  # changed | added | removed
    old_sha256: str | None
    new_sha256: str | None
    rows: list[str] = field(default_factory=list)
    keys: list[dict] = field(default_factory=list)
    content_known: bool = True

    @property
    def label(self) -> str:
        return f"seed {self.seed.removesuffix('.csv')}"

    def describe(self) -> str:
        head = f"{self.status} seed {self.seed}"
        if self.status != "changed":
            return head
        if not self.content_known:
            return head + " (content not kept in the publication: hash only)"
        return head + f": {len(self.rows)} row(s) differ"


@dataclass
class Diff:
    publication: dict
    period_end: date
    deliveries: list[DeliveryChange]
    seeds: list[SeedChange]
    code: tuple[str, str] | None
    version_note: str | None
    integrity_ok: bool
    rows: list[dict]
    unchanged: int

    @property
    def causes(self) -> list[str]:
        out = [d.describe() for d in self.deliveries if d.kind != "later"]
        later = [d for d in self.deliveries if d.kind == "later"]
        if later:
            # The normal deliveries of the following months: named only where nothing else explains a move.
            out.append(f"{len(later)} later extract(s) (months after {self.period_end:%Y-%m}) with events on or "
                       "before it: named below only where nothing else explains a move")
        for s in self.seeds:
            out.append(s.describe())
            out.extend(f"    {r}" for r in s.rows[:20])
            if len(s.rows) > 20:
                out.append(f"    ... and {len(s.rows) - 20} more")
        if self.code:
            out.append(f"changed code: {self.code[0]} -> {self.code[1]}")
        elif self.version_note:
            out.append(self.version_note)
        return out


def _n(v) -> str:
    return "?" if v is None else f"{v:,}"


# ------------------------------------------------------------------------------------------ publication


def resolve_publication(con: duckdb.DuckDBPyConnection, period_end: date | None, against: int | None) -> dict:
    if not store.has_publish_schema(con):
        raise PublicationError("nothing has been published in this warehouse (no publish schema)")
    cols = store.columns(con, "publish", "publications")
    if against is not None:
        row = con.execute(
            "select * from publish.publications where publication_id = ? and event = 'publish'", [against]
        ).fetchone()
        if row is None:
            raise PublicationError(f"publication {against} does not exist (or is a reopening, not a publication)")
        pub = dict(zip(cols, row, strict=True))
        if period_end is not None and pub["period_end"] != period_end:
            raise PublicationError(f"publication {against} is of {pub['period_end']:%Y-%m}, not {period_end:%Y-%m}")
        return pub
    row = con.execute(
        "select * from publish.publications where period_end = ? and event = 'publish' order by version desc limit 1",
        [period_end],
    ).fetchone()
    if row is None:
        raise PublicationError(f"{period_end:%Y-%m} has not been published")
    return dict(zip(cols, row, strict=True))


# ------------------------------------------------------------------------------------------ causes


def _delivery_changes(published: list[dict], current: list[dict], period_end: date) -> list[DeliveryChange]:
    before = {(d["family"], d["month"]): d for d in published}
    now = {(d["family"], d["month"]): d for d in current}
    month_start = period_end.replace(day=1).isoformat()
    out = []
    for key in sorted(set(before) | set(now)):
        old, new = before.get(key), now.get(key)
        if old and new and old["delivery_id"] == new["delivery_id"]:
            continue
        ref = new or old
        # A delivery whose earliest event is after the month-end cannot move it.
        first_event = ref.get("min_event_month") or ref["month"]
        if first_event > month_start:
            continue
        if old and new:
            kind = "restated"
        elif new:
            # A month after the period delivered since: the normal flow, a cause only for what nothing else explains.
            kind = "late" if new["month"] <= month_start else "later"
        else:
            kind = "withdrawn"
        out.append(DeliveryChange(
            kind, key[0], key[1], (new or old)["file"], new and new["delivery_id"], old and old["file"],
            old and old["delivery_id"], old and old.get("rows_accepted"), new and new.get("rows_accepted"),
            first_event, new and new.get("loaded_at"),
        ))
    return out


def _csv_rows(text: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def _seed_row_changes(name: str, old_text: str, new_text: str) -> tuple[list[str], list[dict]]:
    old_cols, old_rows = _csv_rows(old_text)
    new_cols, new_rows = _csv_rows(new_text)
    key_cols = SEED_KEYS.get(name) or tuple(old_cols[:1])
    if not all(k in old_cols and k in new_cols for k in key_cols):
        key_cols = ()

    def keyed(rows):
        out = {}
        for r in rows:
            out.setdefault(tuple(r.get(k) for k in key_cols) if key_cols else tuple(r.values()), []).append(r)
        return out

    old_k, new_k = keyed(old_rows), keyed(new_rows)
    lines, keys = [], []
    for k in sorted(set(old_k) | set(new_k), key=lambda t: tuple(str(x) for x in t)):
        a, b = old_k.get(k), new_k.get(k)
        label = ", ".join(str(x) for x in k)
        if a == b:
            continue
        keys.append(dict(zip(key_cols, k, strict=False)))
        if a and b and len(a) == 1 and len(b) == 1:
            changed = [f"{c} {a[0].get(c)!s} -> {b[0].get(c)!s}" for c in dict.fromkeys([*old_cols, *new_cols])
                       if a[0].get(c) != b[0].get(c)]
            lines.append(f"{name.removesuffix('.csv')}[{label}]: " + "; ".join(changed))
        elif a and not b:
            lines.append(f"{name.removesuffix('.csv')}[{label}]: row removed")
        elif b and not a:
            lines.append(f"{name.removesuffix('.csv')}[{label}]: row added")
        else:
            lines.append(f"{name.removesuffix('.csv')}[{label}]: {len(a)} row(s) -> {len(b)} row(s)")
    return lines, keys


def _seed_changes(con: duckdb.DuckDBPyConnection, pid: int) -> list[SeedChange]:
    published = {r[0]: (r[1], r[2]) for r in con.execute(
        "select s.seed_name, s.sha256, c.content from publish.published_seeds s "
        "left join publish.seed_contents c using (sha256) where s.publication_id = ?",
        [pid],
    ).fetchall()}
    now = {f.name: f for f in store.seed_files()}
    out = []
    for name in sorted(set(published) | set(now)):
        old, new = published.get(name), now.get(name)
        if old and new and old[0] == new.sha256:
            continue
        if old and new:
            change = SeedChange(name, "changed", old[0], new.sha256)
            if old[1] is None or new.content is None:
                change.content_known = False
            elif name.endswith(".csv"):
                change.rows, change.keys = _seed_row_changes(name, old[1], new.content)
            out.append(change)
        else:
            out.append(SeedChange(name, "added" if new else "removed", old and old[0], new and new.sha256))
    return out


# ------------------------------------------------------------------------------------------ rows

_SIDE = """
    select s.structure_code, s.kpi_code as node_code, s.node_kind, y.weight, s.actual_value, s.numerator,
        s.denominator, s.target_value, s.score, s.weight_coverage
    from {scores} as s
    left join {pyramid} as y
        on y.structure_code = s.structure_code and y.node_code = s.kpi_code and {pyramid_filter}
    where {scores_filter}
    union all
    select y.structure_code, y.node_code, y.node_kind, y.weight, null, null, null, null, y.score, y.weight_coverage
    from {pyramid} as y
    where {pyramid_filter} and y.node_kind not in ('leaf', 'composite')
"""


def _differs(col: str) -> str:
    a, b = f"p.{col}", f"c.{col}"
    return (f"coalesce(({a} is null) <> ({b} is null) "
            f"or abs({a} - {b}) > {TOLERANCE} * greatest(1, abs({a}), abs({b})), false)")


def _changed_rows(con: duckdb.DuckDBPyConnection, pid: int, period_end: date) -> tuple[list[dict], int]:
    published = _SIDE.format(scores="publish.published_scores", pyramid="publish.published_pyramid",
                             scores_filter="s.publication_id = $pid", pyramid_filter="y.publication_id = $pid")
    current = _SIDE.format(scores="marts.fct_kpi_scores", pyramid="marts.fct_value_pyramid",
                           scores_filter="s.period_end = $period_end", pyramid_filter="y.period_end = $period_end")
    cols = ", ".join(f"p.{c} as published_{c}, c.{c} as current_{c}" for c in COMPARED)
    moved = " or ".join(_differs(c) for c in COMPARED)
    sql = (
        f"with p as ({published}), c as ({current}), "  # noqa: S608 (fragments are constants of this module)
        "j as (select coalesce(p.structure_code, c.structure_code) as structure_code, "
        "coalesce(p.node_code, c.node_code) as node_code, coalesce(c.node_kind, p.node_kind) as node_kind, "
        f"p.node_code is not null as in_published, c.node_code is not null as in_current, {cols}, "
        f"({moved}) or p.node_code is null or c.node_code is null as moved "
        "from p full outer join c on p.structure_code = c.structure_code and p.node_code = c.node_code) "
        "select * exclude (moved), (select count(*) from j where not moved) as unchanged from j where moved"
    )
    cur = con.execute(sql, {"pid": pid, "period_end": period_end})
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    unchanged = rows[0].pop("unchanged") if rows else con.execute(
        f"select count(*) from ({published})", {"pid": pid}  # noqa: S608 (constant fragment)
    ).fetchone()[0]
    for r in rows:
        r.pop("unchanged", None)
    return rows, unchanged


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def _lineage_families(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]] | None:
    """The extract families each leaf is computed from (node -> families), or None when unknown."""
    from orchestration.explain import _staging_parents

    if not (store.relation_exists(con, "intermediate", "int_kpi_actuals")
            and store.relation_exists(con, "intermediate", "int_kpi_tree")):
        return None
    pairs = con.execute(
        "select t.node_code, a.source_model from intermediate.int_kpi_tree t "
        "join (select distinct quantity_code, source_model from intermediate.int_kpi_actuals) a "
        "on a.quantity_code = case when t.quantity_code = 'MILESTONE' then t.node_code else t.quantity_code end"
    ).fetchall()
    families: dict[str, set[str]] = {}
    by_model: dict[str, set[str]] = {}
    for node, model in pairs:
        if model not in by_model:
            by_model[model] = {s.removeprefix("stg_") for s in _staging_parents(model)}
        families.setdefault(node, set()).update(by_model[model])
    if not any(by_model.values()):
        return None  # no manifest: lineage unknown
    return families


def _attribute(con: duckdb.DuckDBPyConnection, rows: list[dict], d: Diff) -> None:
    tree = {r[0]: (r[1], r[2], r[3], tuple(r[4])) for r in con.execute(
        "select node_code, parent_code, kind, node_level, node_path from marts.dim_kpi"
    ).fetchall()}

    def depth(node: str) -> int:
        return tree[node][2] if node in tree else 0

    def path(node: str) -> tuple[str, ...]:
        return tree[node][3] if node in tree else (node,)

    lineage = _lineage_families(con)
    year = str(d.period_end.year)
    target_seed = {s.seed: s for s in d.seeds if s.seed in TARGET_SEEDS}
    weight_seed = {s.seed: s for s in d.seeds if s.seed in WEIGHT_SEEDS}
    other_seeds = [s for s in d.seeds if s.seed not in TARGET_SEEDS + WEIGHT_SEEDS]
    code = ["code"] if d.code else []

    def seed_touches(seed: SeedChange, node: str, structure: str | None = None) -> bool:
        if not seed.content_known or not seed.keys:
            return True  # cannot tell which rows: the whole seed may be the cause
        for k in seed.keys:
            if k.get("node_code") not in (None, node):
                continue
            if structure and k.get("structure_code") not in (None, structure, NATION):
                continue
            if k.get("year") not in (None, year):
                continue
            return True
        return False

    by_key = {(r["structure_code"], r["node_code"]): r for r in rows}
    for r in sorted(rows, key=lambda r: -depth(r["node_code"])):
        node, structure = r["node_code"], r["structure_code"]
        changed = [c for c in COMPARED if not _close(r[f"published_{c}"], r[f"current_{c}"])]
        if not r["in_published"]:
            changed.append("appeared")
        elif not r["in_current"]:
            changed.append("disappeared")
        r["changed"] = changed
        inherited = r.pop("_inherited", [])
        causes: list[str] = []
        if "target_value" in changed:
            hits = [s.label for s in target_seed.values() if seed_touches(s, node, structure)]
            causes += hits or [s.label for s in other_seeds] or code
        data_moved = any(c in changed for c in ("actual_value", "numerator", "denominator", "appeared",
                                                "disappeared"))
        if data_moved and not inherited:
            fams = None if lineage is None else lineage.get(node, set())
            feeding = [x for x in d.deliveries if fams is None or x.family in fams]
            hits = [x.label for x in feeding if x.kind != "later"] or [s.label for s in other_seeds] or code
            causes += hits or [x.label for x in feeding]
        if "weight" in changed:
            hits = [s.label for s in weight_seed.values() if seed_touches(s, node)]
            causes += hits or code
        causes = list(dict.fromkeys([*causes, *inherited]))
        if not causes and ({"score", "weight_coverage"} & set(changed)) and not inherited:
            causes = [s.label for s in other_seeds] or code or ["unexplained"]
        r["causes"] = causes or ["unexplained"]
        parent = tree.get(node, (None,))[0]
        if parent and (structure, parent) in by_key:
            target = by_key[(structure, parent)]
            target["_inherited"] = list(dict.fromkeys([*target.get("_inherited", []), *r["causes"]]))
        r["depth"] = depth(node)
        r["tree_path"] = path(node)
        a, b = r["published_score"], r["current_score"]
        r["delta"] = None if a is None or b is None else b - a


def diff(con: duckdb.DuckDBPyConnection, period: str | date | None, against: int | None = None) -> Diff:
    period_end = parse_period(period) if period is not None else None
    pub = resolve_publication(con, period_end, against)
    period_end = pub["period_end"]
    pid = pub["publication_id"]
    deliveries = _delivery_changes(json.loads(pub["deliveries"] or "[]"), store.current_deliveries(con), period_end)
    seeds = _seed_changes(con, pid)
    now_version, now_hash = store.code_version(), store.code_hash()
    code, version_note = None, None
    if now_hash != pub["code_hash"]:
        code = (f"{pub['code_version']} [models {(pub['code_hash'] or '')[:12]}]",
                f"{now_version} [models {now_hash[:12]}]")
    elif now_version != pub["code_version"]:
        # Another commit, but the dbt models and macros that compute the scores are byte for byte the same.
        version_note = (f"code version {pub['code_version']} -> {now_version}, scoring code (dbt models, macros) "
                        "identical: not a cause")
    rows, unchanged = _changed_rows(con, pid, period_end)
    header = {k: pub[k] for k in ("publication_id", "period_end", "version", "published_at", "published_by", "note",
                                  "forced", "reason", "code_version", "seeds_hash", "vpi_score",
                                  "vpi_weight_coverage")}
    d = Diff(header, period_end, deliveries, seeds, code, version_note, store.verify(con, pid), rows, unchanged)
    _attribute(con, rows, d)
    # The nation first, each structure's nodes in tree order (a parent, then its moved children).
    rows.sort(key=lambda r: (r["structure_code"] != NATION, r["structure_code"], r["tree_path"]))
    return d


def latest_publication(con: duckdb.DuckDBPyConnection, period: str | date) -> dict | None:
    """The latest publication of a month-end (publication_id, version, published_at, ...), or None.

    For the HTML report: render the diff section only when this is not None. Read-only.
    """
    try:
        pub = resolve_publication(con, parse_period(period), None)
    except PublicationError:
        return None
    return {k: pub[k] for k in ("publication_id", "period_end", "version", "published_at", "published_by", "note",
                                "forced", "reason", "code_version", "vpi_score", "vpi_weight_coverage")}


def diff_rows(con: duckdb.DuckDBPyConnection, period: str | date | None, against: int | None = None) -> list[dict]:
    """One plain dict per node that moved since the publication (for the HTML report).

    Keys: structure_code, node_code, node_kind, depth, tree_path (root to node), published_<c> and current_<c>
    for c in score, weight_coverage, weight, actual_value, numerator, denominator, target_value; delta (score),
    changed (list of what moved), causes (list of labels such as 'restated costs_2021-03.parquet',
    'seed kpi_targets', 'code'). Sorted: the nation first, then each structure in tree order.
    Empty when nothing moved; raises PublicationError when the month-end was never published.
    """
    return diff(con, period, against).rows
