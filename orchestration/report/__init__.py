"""`piramide report`: the static HTML report of a month-end (pyramid, regions, year so far, data quality).

The page is one self-contained file (styles and script inlined, charts as inline SVG): no network and no CDN,
so it opens from a shared folder or an attachment. It reads only the `marts` and `audit` schemas, through a
read-only connection closed before the file is written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from orchestration.config import settings
from orchestration.warehouse.connection import reader_path


@dataclass(frozen=True)
class ReportResult:
    path: Path
    latest: Path
    period: str
    size_bytes: int
    seconds: float


def _write_atomically(path: Path, text: str) -> None:
    # A reader (a browser, a file share) never sees a half-written report.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        # mkstemp creates the file 0600; a report is meant to be shared.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_report(period: str | None = None, out: Path | None = None, warehouse: Path | None = None) -> ReportResult:
    from orchestration.report.data import read_report_data
    from orchestration.report.render import render

    t0 = time.perf_counter()
    s = settings()
    # A report asked for by hand reads the BI copy when it is current, leaving the working file to the pipeline.
    data = read_report_data(warehouse or reader_path(), period)
    html = render(data)
    out_dir = Path(out) if out else s.reports_dir
    key = data.period_end.strftime("%Y-%m")
    path = out_dir / f"report_{key}.html"
    _write_atomically(path, html)
    latest = out_dir / "report_latest.html"
    tmp_latest = out_dir / f".{latest.name}.tmp"
    shutil.copyfile(path, tmp_latest)
    os.replace(tmp_latest, latest)
    return ReportResult(path, latest, key, path.stat().st_size, time.perf_counter() - t0)
