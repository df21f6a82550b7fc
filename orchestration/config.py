"""Paths and environment in one place: every entry point (CLI, dbt profile, Dagster, tests) reads them here."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = ROOT / "dbt_project"
SEEDS_DIR = ROOT / "seeds"


def seeds_dir() -> Path:
    """The reference seeds, shared by the loader (code lists), the generator and dbt."""
    return SEEDS_DIR
EXPECTATIONS_DIR = ROOT / "expectations"

# A clearly marked development key: refused when PIRAMIDE_ENV=production (docs/landing_contract.md, personal data).
DEV_PSEUDONYM_KEY = "piramide-DEVELOPMENT-ONLY-key-not-for-production"
DEV_KEY_ID = "dev"


class ConfigError(RuntimeError):
    """A configuration problem the operator must fix (wrong key, missing path)."""


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    inbox: Path
    reports_dir: Path
    memory_limit: str
    threads: int
    restatement_min_valid_share: float

    @property
    def published_warehouse(self) -> Path:
        # Same file name in another folder: dbt views qualify tables with the catalogue, which DuckDB
        # names after the file stem, so the BI copy keeps the stem.
        return self.warehouse.parent / "published" / self.warehouse.name


def settings() -> Settings:
    """Read the environment now (not at import), so tests can change it per test."""
    warehouse = Path(os.environ.get("PIRAMIDE_WAREHOUSE", ROOT / "warehouse" / "piramide.duckdb")).resolve()
    inbox = Path(os.environ.get("PIRAMIDE_INBOX", ROOT / "data" / "inbox")).resolve()
    reports = Path(os.environ.get("PIRAMIDE_REPORTS", warehouse.parent / "reports")).resolve()
    return Settings(
        warehouse=warehouse,
        inbox=inbox,
        reports_dir=reports,
        memory_limit=os.environ.get("PIRAMIDE_MEMORY_LIMIT", "6GB"),
        threads=int(os.environ.get("PIRAMIDE_DUCKDB_THREADS", "2")),
        restatement_min_valid_share=float(os.environ.get("PIRAMIDE_RESTATEMENT_MIN_VALID_SHARE", "0.95")),
    )


def pseudonym_key() -> tuple[str, str]:
    """Return (key, key_id). The key itself is never logged or echoed."""
    key = os.environ.get("PIRAMIDE_PSEUDONYM_KEY")
    key_id = os.environ.get("PIRAMIDE_PSEUDONYM_KEY_ID")
    production = os.environ.get("PIRAMIDE_ENV", "development").lower() == "production"
    if not key:
        if production:
            raise ConfigError(
                "PIRAMIDE_ENV=production but PIRAMIDE_PSEUDONYM_KEY is not set: the development key is refused"
            )
        return DEV_PSEUDONYM_KEY, DEV_KEY_ID
    if production and key == DEV_PSEUDONYM_KEY:
        raise ConfigError("PIRAMIDE_ENV=production refuses the development pseudonymisation key")
    if not key_id:
        raise ConfigError("PIRAMIDE_PSEUDONYM_KEY is set but PIRAMIDE_PSEUDONYM_KEY_ID is not: name the key")
    return key, key_id


SAMPLE_MANIFEST = ".sample.json"


def target_scale(inbox: Path | None = None) -> float:
    """Scale applied to extensive (ytd_flow) targets: 1 for real extracts.

    A generated sample at scale S carries S in its inbox manifest, so that sample scores measure the
    simulated offices against proportionate targets instead of all sitting at the 50 floor.
    PIRAMIDE_TARGET_SCALE overrides it.
    """
    env = os.environ.get("PIRAMIDE_TARGET_SCALE")
    if env:
        return float(env)
    manifest = (inbox or settings().inbox) / SAMPLE_MANIFEST
    if manifest.exists():
        return float(json.loads(manifest.read_text())["scale"])
    return 1.0


def dbt_env() -> dict[str, str]:
    """Environment for a dbt subprocess: the same warehouse and limits as the Python side."""
    s = settings()
    env = dict(os.environ)
    env["PIRAMIDE_WAREHOUSE"] = str(s.warehouse)
    env["PIRAMIDE_MEMORY_LIMIT"] = s.memory_limit
    env["PIRAMIDE_DUCKDB_THREADS"] = str(s.threads)
    env["PIRAMIDE_TARGET_SCALE"] = repr(target_scale(s.inbox))
    # dbt never sees a pseudonym or the key: its processes and logs have no use for the secret.
    env.pop("PIRAMIDE_PSEUDONYM_KEY", None)
    return env
