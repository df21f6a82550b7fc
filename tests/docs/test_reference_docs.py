"""The generated reference pages are current, and say what the seeds and the contract say."""

from __future__ import annotations

import csv
import re
from collections import Counter

from orchestration.config import seeds_dir
from orchestration.contract import FAMILIES
from orchestration.contract.families import FILE_RULES, ROW_RULES
from orchestration.reference_docs import PAGES, kpi_reference, landing_contract, stale_pages


def _seed(name: str) -> list[dict[str, str]]:
    with (seeds_dir() / f"{name}.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _section(page: str, code: str) -> str:
    """The text of one node's section, up to the next heading."""
    m = re.search(rf"^### {re.escape(code)}\n(.*?)(?=^### |\Z)", page, flags=re.S | re.M)
    assert m, f"no section for {code}"
    return m.group(1)


def test_committed_pages_are_current():
    stale = stale_pages()
    assert not stale, f"stale: {', '.join('docs/' + s for s in stale)}; run `.venv/bin/piramide docs-reference`"


def test_a_stale_page_is_detected(tmp_path):
    for name, make in PAGES.items():
        (tmp_path / name).write_text(make())
    assert stale_pages(tmp_path) == []
    page = tmp_path / "kpi_reference.md"
    page.write_text(page.read_text().replace("national 70 ", "national 71 ", 1))
    assert stale_pages(tmp_path) == ["kpi_reference.md"]
    (tmp_path / "landing_contract.md").unlink()
    assert stale_pages(tmp_path) == ["kpi_reference.md", "landing_contract.md"]


def test_kpi_reference_has_every_node_with_its_columns():
    page = kpi_reference()
    nodes = _seed("kpi_nodes")
    assert len(re.findall(r"^### ", page, flags=re.M)) == len(nodes) == 127
    for n in nodes:
        sec = _section(page, n["node_code"])
        assert n["name_it"] in sec and n["name_en"] in sec
        assert f"plan L{n['plan_line']}" in sec
        assert f"period basis: {n['period_basis'] or 'none'}" in sec


def test_kpi_reference_numbers():
    page = kpi_reference()
    # D.1: total backlog index, 70 days in 2021 (plan L3185), lower is better, stock.
    d1 = _section(page, "D.1")
    assert "polarity: -1; period basis: stock; cap: 0.5" in d1
    assert "- 2021: national 70 (plan L3185" in d1
    # PG weights per level come from perspective_weights: Finanza 30 % at the nation.
    assert "national: 0.3 (perspective_weights)" in _section(page, "PG_FINANZA")
    # IG_PSI per-structure targets, counted from the seeds independently of the generator.
    level = {s["structure_code"]: s["level"] for s in _seed("structures")}
    counts = Counter(
        level[t["structure_code"]]
        for t in _seed("kpi_targets")
        if t["node_code"] == "IG_PSI" and t["year"] == "2021" and t["structure_code"] != "nazionale"
    )
    assert counts == {"regional": 23, "provincial": 116}
    assert "per structure: 23 regional, 116 provincial" in _section(page, "IG_PSI")
    # Produzione lorda follows the quarterly profile 25/50/75/100 (plan L4495) and is not scored.
    pl = _section(page, "PRODUZIONE_LORDA")
    assert "profile 3: 0.25, 6: 0.5, 9: 0.75, 12: 1.0" in pl
    assert "outside the roll-up: reported, not scored" in pl
    # Data sources: a measures leaf, a milestone leaf, a leaf computed from practices with a product set.
    assert "`measures` extract, code `WELFARE_COVERAGE_PCT`" in _section(page, "C.2")
    assert "project(s) 2021_AS8" in _section(page, "A.P1")
    g1 = _section(page, "G.1")
    assert "model `int_kpi_actuals_practices`" in g1 and "REDDITO_CITTADINANZA" in g1


def test_landing_contract_lists_every_family_column_and_rule():
    page = landing_contract()
    for fam in FAMILIES.values():
        assert f"### `{fam.name}`" in page
        for col in fam.columns:
            assert re.search(rf"^\| `{col.name}` \| {re.escape(col.sql_type)} \| ", page, flags=re.M)
    for rule in FILE_RULES + ROW_RULES:
        assert f"`{rule}`" in page
    assert "| `restatement_min_valid_share` | `PIRAMIDE_RESTATEMENT_MIN_VALID_SHARE` | `0.95` |" in page
    assert "`practices.applicant_tax_code`, `contacts.requester_tax_code`" in page
    assert "[bad_input.md](bad_input.md)" in page
