"""The package's layers: a module imports only from its own layer or the layers below it.

From the bottom: the warehouse's owner and the shared words (config, console, contract, warehouse); the work on
data (ingest, synthetic); what reads and writes the marts (quality, report, publication, scenario, ...); the
Dagster definitions (defs, definitions); the entry points (pipeline, cli). An import up the layers (quality
reaching into defs for a tag name, say) is how a house becomes a tangle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "orchestration"

LAYERS: dict[str, int] = {
    "config": 0, "console": 0, "contract": 0, "warehouse": 0,
    "ingest": 1, "synthetic": 1,
    "quality": 2, "report": 2, "publication": 2, "scenario": 2, "summary": 2, "explain": 2, "export": 2,
    "publish_bi": 2, "trace": 2, "plan_check": 2, "reference_docs": 2,
    "defs": 3, "definitions": 3,
    "pipeline": 4, "cli": 5,
}


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "orchestration" else None


def imports_up() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        here = _part(".".join(rel.parts))
        if here is None or here == "__init__" or here == "__main__":
            continue
        if here not in LAYERS:
            found.append(f"{rel}: not in the layer map (add it to tests/architecture/test_layers.py)")
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                there = _part(name)
                if there is None or there == here:
                    continue
                if there not in LAYERS:
                    found.append(f"{rel}:{node.lineno} imports {name}: not in the layer map")
                elif LAYERS[there] > LAYERS[here]:
                    found.append(f"{rel}:{node.lineno} imports {name} (layer {LAYERS[there]} above {LAYERS[here]})")
    return found


def test_no_import_runs_up_the_layers():
    assert imports_up() == []


def test_no_module_outside_ingest_imports_the_loader():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "ingest" in path.relative_to(PACKAGE).parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "orchestration.ingest.loader" in text:
            offenders.append(str(path.relative_to(PACKAGE.parent)))
    assert offenders == []


def test_the_layer_test_fails_on_an_import_up_the_layers(tmp_path, monkeypatch):
    # Shown once that the rule can fail: a warehouse module reaching up into the Dagster definitions.
    fake = tmp_path / "orchestration"
    (fake / "warehouse").mkdir(parents=True)
    (fake / "warehouse" / "bad.py").write_text("from orchestration.defs.jobs import JOB_NAME\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", fake)
    assert imports_up() == ["orchestration/warehouse/bad:1 imports orchestration.defs.jobs (layer 3 above 0)"]


def test_the_ddl_of_the_tables_python_writes_exists_once():
    """Every audit, publish and scenario table is created in exactly one place: orchestration/warehouse/sql."""
    pattern = re.compile(r"create\s+(?:table|sequence)\s+if\s+not\s+exists\s+((?:audit|publish|scenario)\.\w+)", re.I)
    places: dict[str, list[str]] = {}
    for p in sorted(PACKAGE.parent.rglob("*")):
        if not p.is_file() or p.suffix not in (".py", ".sql") or {".venv", "tests", "target"} & set(p.parts):
            continue
        for name in pattern.findall(p.read_text(encoding="utf-8", errors="ignore")):
            places.setdefault(name.lower(), []).append(str(p.relative_to(PACKAGE.parent)))
    assert {"audit.load_ledger", "audit.dq_results", "publish.publications", "scenario.saved_scores"} <= set(places)
    twice = {n: ps for n, ps in places.items() if len(ps) > 1 or not ps[0].startswith("orchestration/warehouse/sql/")}
    assert twice == {}
