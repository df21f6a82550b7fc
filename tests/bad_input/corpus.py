"""The bad-input corpus: one extract per kind of defect, each with the loader's exact expected outcome.

Written at test time (never committed: files with tax codes are personal-data fixtures, and binaries such as
a truncated Parquet are derived from the sample). The files are built on top of a generated sample inbox:
restatements and re-deliveries copy one of its months, new files use the month after its last one.

    python -m tests.bad_input.corpus SAMPLE_INBOX [OUT]      # OUT defaults to tests/data/bad

Every kind writes its file(s) into OUT/<kind>/; writing is deterministic and atomic per file, so two test
sessions writing the corpus at once produce the same bytes and never a half-written file.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np

from orchestration.contract import family
from orchestration.synthetic.practices import fake_tax_codes

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "tests" / "data" / "bad"


# ------------------------------------------------------------------------------------------ expectations


@dataclass(frozen=True)
class Expected:
    outcome: str  # loaded | restated | unchanged | rejected
    rule: str | None = None  # the file rule of a rejection
    says: tuple[str, ...] = ()  # more fragments the message must contain (it always names file and rule)
    # Exact quarantine of the delivery: (row, column, rule), or a function of the rows read; the other
    # rows land in raw.
    quarantine: tuple[tuple[int, str, str], ...] | Callable[[int], tuple[tuple[int, str, str], ...]] = ()
    rows_read: int | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    what: str  # the defect, as docs/bad_input.md says it
    expected: Expected
    write: Callable[[Context, Path], Path] = field(repr=False)  # writes the file into a folder, returns it
    # The attempt is a restatement of (or identical to) an already loaded sample month.
    restates: bool = False


@dataclass
class Context:
    sample_inbox: Path
    month: date  # a month the sample has not delivered: the month after its last
    restate_month: date  # a sample month of practices that later months follow
    rng: np.random.Generator

    def tax_code(self) -> str:
        return str(fake_tax_codes(self.rng, 1)[0])

    def day(self, d: int) -> str:
        return (self.month + timedelta(days=d - 1)).isoformat()

    @property
    def ym(self) -> str:
        return f"{self.month:%Y-%m}"


# ------------------------------------------------------------------------------------------------ writing


def _atomic(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def _csv_bytes(fam: str, rows: list[dict], columns: list[str] | None = None, delimiter: str = ",",
               line_end: str = "\n", header: bool = True) -> bytes:
    cols = columns or list(family(fam).column_names)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=line_end)
    if header:
        w.writerow(cols)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    return buf.getvalue().encode("utf-8")


def _write_csv(folder: Path, name: str, fam: str, rows: list[dict], **kw) -> Path:
    return _atomic(folder / name, _csv_bytes(fam, rows, **kw))


def _sample_file(ctx: Context, fam: str, month: date) -> Path:
    return ctx.sample_inbox / f"{fam}_{month:%Y-%m}.parquet"


def _parquet_from_sql(folder: Path, name: str, sql: str, params: list) -> Path:
    """Write the result of a query over sample files as Parquet (the paths are bound, never interpolated)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{os.getpid()}.parquet.tmp"
    con = duckdb.connect()
    try:
        con.execute("set threads = 1; set preserve_insertion_order = true")
        con.sql(sql, params=params).write_parquet(str(tmp), compression="zstd")
    finally:
        con.close()
    os.replace(tmp, folder / name)
    return folder / name


# -------------------------------------------------------------------------------------------- base rows


def practice(ctx: Context, pid: str, received: int = 5, **over) -> dict:
    row = {
        "practice_id": pid,
        "structure_code": "alessandria",
        "producing_structure_code": "alessandria",
        "product_code": "NASPI",
        "received_on": ctx.day(received),
        "entitlement_on": None,
        "defined_on": None,
        "outcome": None,
        "changed_on": ctx.day(received),
        "project_tag": None,
        "review_flag": "false",
        "applicant_tax_code": ctx.tax_code(),
    }
    row.update(over)
    return row


def practices(ctx: Context, n: int = 4, prefix: str = "BAD") -> list[dict]:
    return [practice(ctx, f"{prefix}{i:04d}", received=1 + i % 20) for i in range(1, n + 1)]


def contact(ctx: Context, cid: str, **over) -> dict:
    row = {
        "contact_id": cid,
        "structure_code": "alessandria",
        "channel_code": "AGENDA",
        "user_type": "citizen",
        "opened_at": f"{ctx.day(3)} 09:00:00",
        "first_response_at": f"{ctx.day(4)} 10:00:00",
        "closed_at": f"{ctx.day(6)} 11:00:00",
        "status": "closed",
        "changed_on": ctx.day(6),
        "requester_tax_code": ctx.tax_code(),
    }
    row.update(over)
    return row


def cost(ctx: Context, nature: str = "PERSONNEL_PRODUCTION", **over) -> dict:
    row = {
        "structure_code": "alessandria",
        "month": ctx.day(1),
        "cost_nature": nature,
        "cost_class": "direct_production",
        "amount_eur": "1000.00",
        "is_closing": "false",
    }
    row.update(over)
    return row


def revenue(ctx: Context, item: str, **over) -> dict:
    row = {"structure_code": "alessandria", "month": ctx.day(1), "item_code": item, "amount_eur": "250.00"}
    row.update(over)
    return row


def staff(ctx: Context, sub_area: str, **over) -> dict:
    row = {
        "structure_code": "alessandria",
        "month": ctx.day(1),
        "sub_area_code": sub_area,
        "role": "production",
        "headcount": "10",
        "smart_workers": "2",
        "presence_days": "200",
        "smart_working_days": "40",
        "working_days": "20",
    }
    row.update(over)
    return row


def milestone(ctx: Context, project: str, d: int, **over) -> dict:
    row = {"project_id": project, "as_of": ctx.day(d), "completion": "0.5", "evidence": "Stato di avanzamento 50%"}
    row.update(over)
    return row


def survey(ctx: Context, rid: str, **over) -> dict:
    row = {
        "response_id": rid,
        "wave": str(ctx.month.year),
        "channel_code": "AGENDA",
        "overall_score": "4",
        "score_f1": "4",
        "score_f2": "3",
        "score_f3": None,
        "score_f4": "5",
    }
    row.update(over)
    return row


# ------------------------------------------------------------------------------------------------ kinds

KINDS: list[Kind] = []


def kind(name: str, what: str, expected: Expected, restates: bool = False):
    def register(fn: Callable[[Context, Path], Path]) -> Callable[[Context, Path], Path]:
        KINDS.append(Kind(name, what, expected, fn, restates))
        return fn

    return register


def practices_name(ctx: Context) -> str:
    """The practices file name of the corpus month."""
    return f"practices_{ctx.ym}.csv"


# --- unreadable or structurally wrong files: rejected whole ---------------------------------------------


@kind("empty_file", "a file of 0 bytes", Expected("rejected", "empty_file", ("0 bytes",)))
def _(ctx, out):
    return _atomic(out / practices_name(ctx), b"")


@kind("header_only", "a CSV with the header and no data row", Expected("rejected", "empty_file", ("no data rows",)))
def _(ctx, out):
    return _write_csv(out, practices_name(ctx), "practices", [])


@kind("empty_parquet", "a Parquet file with the right columns and no row",
      Expected("rejected", "empty_file", ("no data rows",)))
def _(ctx, out):
    return _parquet_from_sql(out, f"practices_{ctx.ym}.parquet", "select * from read_parquet(?) limit 0",
                             [str(_sample_file(ctx, "practices", ctx.restate_month))])


@kind("truncated_parquet", "a Parquet file cut short (half its bytes)",
      Expected("rejected", "unreadable", ("Parquet",)))
def _(ctx, out):
    data = _sample_file(ctx, "practices", ctx.restate_month).read_bytes()
    return _atomic(out / f"practices_{ctx.ym}.parquet", data[: len(data) // 2])


@kind("parquet_named_csv", "Parquet bytes in a file named .csv", Expected("rejected", "unreadable", ("is Parquet",)))
def _(ctx, out):
    return _atomic(out / practices_name(ctx), _sample_file(ctx, "practices", ctx.restate_month).read_bytes())


@kind("semicolon_delimiter", "a CSV separated by ';' (a spreadsheet's Italian export)",
      Expected("rejected", "wrong_delimiter", ("delimiter",)))
def _(ctx, out):
    return _atomic(out / practices_name(ctx), _csv_bytes("practices", practices(ctx), delimiter=";"))


@kind("tab_delimiter", "a CSV separated by tabs", Expected("rejected", "wrong_delimiter", ("delimiter",)))
def _(ctx, out):
    return _atomic(out / practices_name(ctx), _csv_bytes("practices", practices(ctx), delimiter="\t"))


@kind("bom", "a UTF-8 byte-order mark before the header (accepted: DuckDB strips it)",
      Expected("loaded", rows_read=4))
def _(ctx, out):
    return _atomic(out / practices_name(ctx), b"\xef\xbb\xbf" + _csv_bytes("practices", practices(ctx)))


@kind("crlf_line_ends", "Windows line ends (accepted)", Expected("loaded", rows_read=4))
def _(ctx, out):
    return _atomic(out / practices_name(ctx), _csv_bytes("practices", practices(ctx), line_end="\r\n"))


@kind("latin1_bytes", "a CSV in Latin-1 (non-UTF-8 bytes in a text field)",
      Expected("rejected", "encoding", ("UTF-8", "line")))
def _(ctx, out):
    rows = [milestone(ctx, "2021_AS8", 3), milestone(ctx, "A.PT1", 4, evidence="Attività di collaudo è conclusa")]
    return _atomic(out / f"milestones_{ctx.ym}.csv",
                   _csv_bytes("milestones", rows).decode("utf-8").encode("latin-1"))


@kind("ragged_rows", "a CSV row with more fields than the header",
      Expected("rejected", "unreadable", ("well-formed CSV",)))
def _(ctx, out):
    data = _csv_bytes("practices", practices(ctx)).decode().splitlines()
    data[2] += ",surplus"
    return _atomic(out / practices_name(ctx), ("\n".join(data) + "\n").encode())


@kind("preamble_lines", "report title lines above the header", Expected("rejected", "unreadable"))
def _(ctx, out):
    return _atomic(out / practices_name(ctx), b"Estrazione pratiche\nGenerata il 2022-02-01\n" + _csv_bytes("practices",
                                                                                               practices(ctx)))


@kind("missing_column", "a contract column is absent (product_code)",
      Expected("rejected", "missing_column", ("product_code",)))
def _(ctx, out):
    cols = [c for c in family("practices").column_names if c != "product_code"]
    return _write_csv(out, practices_name(ctx), "practices", practices(ctx), columns=cols)


@kind("extra_column", "a column the contract does not have (note)",
      Expected("rejected", "extra_column", ("'note'",)))
def _(ctx, out):
    cols = [*family("practices").column_names, "note"]
    return _write_csv(out, practices_name(ctx), "practices", practices(ctx), columns=cols)


@kind("renamed_column", "a contract column under another name (data_ricezione for received_on)",
      Expected("rejected", "missing_column", ("received_on", "'data_ricezione'", "renamed")))
def _(ctx, out):
    rows = [dict(r, data_ricezione=r["received_on"]) for r in practices(ctx)]
    cols = [("data_ricezione" if c == "received_on" else c) for c in family("practices").column_names]
    return _write_csv(out, practices_name(ctx), "practices", rows, columns=cols)


@kind("duplicate_header", "a column twice in the header", Expected("rejected", "extra_column"))
def _(ctx, out):
    cols = [*family("practices").column_names, "practice_id"]
    return _write_csv(out, practices_name(ctx), "practices", practices(ctx), columns=cols)


@kind("no_header", "the header row is missing (the first data row, with a tax code, takes its place)",
      Expected("rejected", "missing_column", ("header row",)))
def _(ctx, out):
    return _write_csv(out, practices_name(ctx), "practices", practices(ctx), header=False)


@kind("other_family_columns", "a staff extract saved under a practices name",
      Expected("rejected", "missing_column", ("practice_id",)))
def _(ctx, out):
    rows = [staff(ctx, "AMMORTIZZATORI_SOCIALI")]
    return _write_csv(out, practices_name(ctx), "staff", rows)


@kind("unknown_family", "a file for a family the contract does not know (invoices)",
      Expected("rejected", "unknown_family", ("'invoices'",)))
def _(ctx, out):
    return _write_csv(out, f"invoices_{ctx.ym}.csv", "practices", practices(ctx))


@kind("bad_file_name", "a name off the pattern (upper-case extension)", Expected("rejected", "bad_file_name"))
def _(ctx, out):
    return _write_csv(out, f"practices_{ctx.ym}.CSV", "practices", practices(ctx))


@kind("shell_characters_in_name", "shell metacharacters in the name ($(…), ;, quotes, newline)",
      Expected("rejected", "bad_file_name"))
def _(ctx, out):
    return _write_csv(out, f"practices_{ctx.ym}.csv; $(touch pwned) '\n", "practices", practices(ctx))


@kind("path_traversal_name", "a name made of traversal segments (..\\..\\practices_…)",
      Expected("rejected", "bad_file_name"))
def _(ctx, out):
    return _write_csv(out, f"..\\..\\practices_{ctx.ym}.csv", "practices", practices(ctx))


@kind("future_file_month", "a file named for a month that has not happened (2099-01)",
      Expected("rejected", "month_window", ("2099-01",)))
def _(ctx, out):
    return _write_csv(out, "practices_2099-01.csv", "practices", practices(ctx))


@kind("rows_of_another_month", "rows whose changed_on is in the month before the file's",
      Expected("rejected", "month_mismatch", ("changed_on", "row 3")))
def _(ctx, out):
    rows = practices(ctx)
    before = (ctx.month - timedelta(days=3)).isoformat()
    rows[2].update(received_on=before, changed_on=before)
    rows[3].update(received_on=before, changed_on=before)
    return _write_csv(out, practices_name(ctx), "practices", rows)


# --- row rules: the rows quarantined with row, column and rule, the others loaded ---------------------


@kind("wrong_type", "values that are not of the column's type (a date, a boolean)",
      Expected("loaded", quarantine=((2, "received_on", "type"), (3, "review_flag", "type")), rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[1]["received_on"] = "31/01/2022"
    rows[2]["review_flag"] = "forse"
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("decimal_comma", "an amount with a decimal comma (1234,56)",
      Expected("loaded", quarantine=((2, "amount_eur", "type"),), rows_read=2))
def _(ctx, out):
    rows = [cost(ctx), cost(ctx, "LITIGATION", amount_eur="1234,56")]
    return _write_csv(out, f"costs_{ctx.ym}.csv", "costs", rows)


@kind("non_integer_count", "a head count of 3.5", Expected("loaded", quarantine=((1, "headcount", "type"),),
                                                            rows_read=2))
def _(ctx, out):
    rows = [staff(ctx, "AMMORTIZZATORI_SOCIALI", headcount="3.5"), staff(ctx, "AP_GESTIONE_PRIVATA")]
    return _write_csv(out, f"staff_{ctx.ym}.csv", "staff", rows)


@kind("null_key", "a practice without practice_id",
      Expected("loaded", quarantine=((3, "practice_id", "not_null"),), rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[2]["practice_id"] = ""
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("null_required", "a blank product code and a missing tax code",
      Expected("loaded", quarantine=((2, "product_code", "not_null"), (4, "applicant_tax_code", "not_null")),
               rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[1]["product_code"] = " "
    rows[3]["applicant_tax_code"] = ""
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("duplicate_key", "the same practice_id twice in one file (both rows quarantined)",
      Expected("loaded", quarantine=((2, "practice_id", "duplicate_key"), (4, "practice_id", "duplicate_key")),
               rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[3]["practice_id"] = rows[1]["practice_id"]
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("duplicate_composite_key", "the same structure x month x item twice in a revenue file",
      Expected("loaded", quarantine=((1, "structure_code+month+item_code", "duplicate_key"),
                                     (3, "structure_code+month+item_code", "duplicate_key")), rows_read=3))
def _(ctx, out):
    rows = [revenue(ctx, "contrib_assessed_flow_mgmt"), revenue(ctx, "contrib_assessed_inspection"),
            revenue(ctx, "contrib_assessed_flow_mgmt", amount_eur="300.00")]
    return _write_csv(out, f"revenue_{ctx.ym}.csv", "revenue", rows)


@kind("unknown_structure_code", "an owner structure nobody knows (atlantide)",
      Expected("loaded", quarantine=((2, "structure_code", "unknown_code"),), rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[1]["structure_code"] = "atlantide"
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("unknown_product_code", "a product outside the catalogue",
      Expected("loaded", quarantine=((1, "product_code", "unknown_code"),), rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[0]["product_code"] = "BONUS_MONOPATTINO"
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("wrong_structure_level", "a regional entity as the owner of a practice (owners are production structures)",
      Expected("loaded", quarantine=((4, "structure_code", "wrong_level"),), rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[3]["structure_code"] = "piemonte"
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("unknown_enum_value", "an outcome outside granted/rejected/other/cancelled",
      Expected("loaded", quarantine=((1, "outcome", "unknown_code"),), rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[0].update(defined_on=rows[0]["received_on"], outcome="approvata")
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("dates_out_of_order", "a practice defined before it was received",
      Expected("loaded", quarantine=((2, "defined_on", "date_order"),), rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[1].update(received_on=ctx.day(10), defined_on=ctx.day(8), outcome="granted", changed_on=ctx.day(10))
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("timestamps_out_of_order", "a contact closed before it was opened, answered before it was opened",
      Expected("loaded", quarantine=((2, "closed_at", "date_order"), (3, "first_response_at", "date_order")),
               rows_read=3))
def _(ctx, out):
    rows = [contact(ctx, "BADC001"),
            contact(ctx, "BADC002", opened_at=f"{ctx.day(5)} 09:00:00", first_response_at=None,
                    closed_at=f"{ctx.day(4)} 09:00:00"),
            contact(ctx, "BADC003", first_response_at=f"{ctx.day(2)} 09:00:00", closed_at=None, status="answered")]
    return _write_csv(out, f"contacts_{ctx.ym}.csv", "contacts", rows)


@kind("date_before_window", "a practice received in 1999 (before the plausible window)",
      Expected("loaded", quarantine=((3, "received_on", "date_window"),), rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[2]["received_on"] = "1999-12-31"
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("future_dates", "a received date after the file's month (2030), so also after its report date",
      Expected("loaded", quarantine=((1, "changed_on", "date_order"), (1, "received_on", "date_window")),
               rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[0]["received_on"] = "2030-01-15"
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("negative_amount", "a negative revenue amount (revenue amounts are positive: signs come from the seed)",
      Expected("loaded", quarantine=((2, "amount_eur", "out_of_range"),), rows_read=2))
def _(ctx, out):
    rows = [revenue(ctx, "contrib_assessed_flow_mgmt"), revenue(ctx, "contrib_assessed_inspection", amount_eur="-5")]
    return _write_csv(out, f"revenue_{ctx.ym}.csv", "revenue", rows)


@kind("non_finite_amounts", "amounts inf, NaN and -Infinity",
      Expected("loaded", quarantine=((2, "amount_eur", "out_of_range"), (3, "amount_eur", "out_of_range"),
                                     (4, "amount_eur", "out_of_range")), rows_read=4))
def _(ctx, out):
    rows = [cost(ctx), cost(ctx, "LITIGATION", amount_eur="inf"), cost(ctx, "IT_SERVICES", amount_eur="NaN"),
            cost(ctx, "PERSONNEL_PRODUCTION", cost_class="allocated", amount_eur="-Infinity")]
    return _write_csv(out, f"costs_{ctx.ym}.csv", "costs", rows)


@kind("absurd_values", "a head count of five million, 45 working days in a month, more smart workers than staff",
      Expected("loaded", quarantine=((1, "headcount", "out_of_range"), (2, "working_days", "out_of_range"),
                                     (3, "smart_workers", "out_of_range")), rows_read=4))
def _(ctx, out):
    rows = [staff(ctx, "AMMORTIZZATORI_SOCIALI", headcount="5000000"),
            staff(ctx, "AP_GESTIONE_PRIVATA", working_days="45"),
            staff(ctx, "AP_GESTIONE_PUBBLICA", headcount="3", smart_workers="7"),
            staff(ctx, "SUPPORT", role="support")]
    return _write_csv(out, f"staff_{ctx.ym}.csv", "staff", rows)


@kind("score_out_of_scale", "a survey score of 42 on a 1-5 scale",
      Expected("loaded", quarantine=((2, "overall_score", "out_of_range"),), rows_read=3))
def _(ctx, out):
    rows = [survey(ctx, "BADS-1"), survey(ctx, "BADS-2", overall_score="42"), survey(ctx, "BADS-3")]
    return _write_csv(out, f"survey_{ctx.ym}.csv", "survey", rows)


@kind("completion_over_one", "a project completion of 1.7 (170 %)",
      Expected("loaded", quarantine=((2, "completion", "out_of_range"),), rows_read=2))
def _(ctx, out):
    rows = [milestone(ctx, "2021_AS8", 3), milestone(ctx, "A.PT1", 4, completion="1.7")]
    return _write_csv(out, f"milestones_{ctx.ym}.csv", "milestones", rows)


@kind("formula_text", "text a spreadsheet would run as a formula (=HYPERLINK(…), @SUM(…), +39…)",
      Expected("loaded", quarantine=((2, "evidence", "formula_text"), (3, "evidence", "formula_text"),
                                     (4, "evidence", "formula_text")), rows_read=4))
def _(ctx, out):
    rows = [milestone(ctx, "2021_AS8", 3),
            milestone(ctx, "A.PT1", 4, evidence='=HYPERLINK("http://example.invalid/x","ok")'),
            milestone(ctx, "A.PT2", 5, evidence="@SUM(A1:A9)"),
            milestone(ctx, "A.PT1", 6, evidence="+39 06 5905 1")]
    return _write_csv(out, f"milestones_{ctx.ym}.csv", "milestones", rows)


@kind("tax_code_in_free_text", "a person's tax code written into a free-text column",
      Expected("loaded", quarantine=((2, "evidence", "personal_data"),), rows_read=2))
def _(ctx, out):
    rows = [milestone(ctx, "2021_AS8", 3), milestone(ctx, "A.PT1", 4, evidence=f"Pratica di {ctx.tax_code()} chiusa")]
    return _write_csv(out, f"milestones_{ctx.ym}.csv", "milestones", rows)


@kind("comment_like_row", "a row whose first field starts with '#' (kept: not a comment)",
      Expected("loaded", rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[1]["practice_id"] = "#BAD-0002"
    return _write_csv(out, practices_name(ctx), "practices", rows)


@kind("sql_in_values", "quotes and SQL fragments in codes and ids (codes quarantined, ids kept verbatim)",
      Expected("loaded", quarantine=((2, "structure_code", "unknown_code"), (3, "product_code", "unknown_code")),
               rows_read=4))
def _(ctx, out):
    rows = practices(ctx)
    rows[0]["practice_id"] = "O'Brien\"); drop table raw.practices; --"
    rows[1]["structure_code"] = "'; drop table raw.practices; --"
    rows[2]["product_code"] = "NASPI' or '1'='1"
    return _write_csv(out, practices_name(ctx), "practices", rows)


# --- deliveries of a month already loaded --------------------------------------------------------------


def _restate(ctx: Context, out: Path, select: str, params: list) -> Path:
    """A re-delivery of the sample's restate month, from a query whose `?` are bound to `params`."""
    return _parquet_from_sql(out, _sample_file(ctx, "practices", ctx.restate_month).name, select, params)


@kind("identical_redelivery", "the same file delivered again (same checksum)", Expected("unchanged"),
      restates=True)
def _(ctx, out):
    src = _sample_file(ctx, "practices", ctx.restate_month)
    return _atomic(out / src.name, src.read_bytes())


REOPENED = 5  # practices the corrected restatement reopens


def reopened_sql() -> str:
    """The restatement's correction: REOPENED practices defined in the month, reported again as still open.

    Chosen among practices no later month mentions, so their latest state is this month's (the marts can
    then be predicted exactly); read from the sample month file with `?` bound to its path.
    """
    return (
        "select practice_id from read_parquet(?) where outcome = 'granted' and defined_on is not null "  # noqa: S608
        "and practice_id not in (select practice_id from read_parquet(?)) "
        f"order by practice_id limit {REOPENED}"
    )


def later_files(ctx: Context) -> list[str]:
    return sorted(str(p) for p in ctx.sample_inbox.glob("practices_*.parquet")
                  if p.name > f"practices_{ctx.restate_month:%Y-%m}.parquet")


@kind("restatement_changes_values", f"the month re-delivered with {REOPENED} practices reopened (corrected)",
      Expected("restated"), restates=True)
def _(ctx, out):
    sql = (
        "with r as (" + reopened_sql() + ") "  # noqa: S608
        "select * replace ("
        "  case when practice_id in (select practice_id from r) then null else defined_on end as defined_on,"
        "  case when practice_id in (select practice_id from r) then null else outcome end as outcome"
        ") from read_parquet(?)"
    )
    src = str(_sample_file(ctx, "practices", ctx.restate_month))
    return _restate(ctx, out, sql, [src, later_files(ctx), src])


def _every(step: int, n_rows: int) -> tuple[tuple[int, str, str], ...]:
    return tuple((r, "structure_code", "unknown_code") for r in range(1, n_rows + 1, step))


def _unknown_owner_every(ctx: Context, out: Path, step: int, of: int) -> Path:
    """The restate month with `step` rows of every `of` (by position) on an unknown owner structure."""
    sql = (
        "select * exclude (file_row_number) replace (case when file_row_number % ? < ? then 'atlantide' "
        "else structure_code end as structure_code) from read_parquet(?, file_row_number = true)"
    )
    return _restate(ctx, out, sql, [of, step, str(_sample_file(ctx, "practices", ctx.restate_month))])


@kind("restatement_few_invalid", "the month re-delivered with 1 row in 100 invalid (above the 95 % bar)",
      Expected("restated", quarantine=lambda n: _every(100, n)), restates=True)
def _(ctx, out):
    return _unknown_owner_every(ctx, out, 1, 100)


@kind("truncated_restatement", "the month re-delivered cut short (its first 50 rows, every row valid)",
      Expected("rejected", "volume_drop", ("50 rows against", "stays current", "--accept-volume-drop")),
      restates=True)
def _(ctx, out):
    # An export that stopped half-way: valid rows, far fewer of them (issue 16).
    return _restate(ctx, out, "select * from read_parquet(?) limit 50",
                    [str(_sample_file(ctx, "practices", ctx.restate_month))])


@kind("restatement_mostly_invalid", "the month re-delivered with 6 rows in 10 on an unknown owner structure",
      Expected("rejected", "too_many_invalid", ("stays current",)), restates=True)
def _(ctx, out):
    return _unknown_owner_every(ctx, out, 6, 10)


# ------------------------------------------------------------------------------------------------ entry


def context(sample_inbox: Path) -> Context:
    months = sorted(
        date(int(p.stem[-7:-3]), int(p.stem[-2:]), 1) for p in Path(sample_inbox).glob("practices_*.parquet")
    )
    if len(months) < 8:
        raise ValueError(f"the sample in {sample_inbox} has too few practices months for the corpus")
    last = months[-1]
    nxt = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    return Context(Path(sample_inbox), nxt, months[-7], np.random.default_rng(20210))


def write_corpus(sample_inbox: Path, out: Path = DEFAULT_OUT) -> dict[str, Path]:
    """Write every kind into out/<kind>/ and return kind -> the file to load."""
    ctx = context(sample_inbox)
    written = {}
    for k in KINDS:
        folder = Path(out) / k.name
        written[k.name] = k.write(ctx, folder)
    return written


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    for name, path in write_corpus(Path(argv[0]), out).items():
        print(f"{name:30} {str(path.relative_to(out))!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
