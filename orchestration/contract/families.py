"""Families, columns, types and row rules of the landing contract (docs/landing_contract.md is generated from it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# File-level rules reject the whole file; row-level rules send rows to audit.quarantine.
# What each rule catches, kind by kind, is in docs/bad_input.md.
FILE_RULES = (
    "bad_file_name",
    "unknown_family",
    "month_window",  # the month in the name is before 2000-01 or after the current month
    "unreadable",
    "encoding",  # a CSV that is not UTF-8
    "empty_file",
    "wrong_delimiter",
    "missing_column",
    "extra_column",
    "month_mismatch",
    "too_many_invalid",
    "volume_drop",  # a restatement with far fewer rows or keys than the delivery it would replace
    "ambiguous_delivery",  # two new files for one family and month in the same pass
)
ROW_RULES = (
    "type",
    "not_null",
    "unknown_code",
    "wrong_level",
    "date_order",
    "date_window",
    "out_of_range",
    "duplicate_key",
    "formula_text",
    "personal_data",  # a tax code in clear in an identifier or free-text column
)
RULE_IDS = FILE_RULES + ROW_RULES

# \Z, not $: `$` also matches before a trailing newline, so "practices_2021-01.csv\n" would pass.
FILE_NAME_RE = re.compile(r"^(?P<family>[a-z_]+)_(?P<month>\d{4}-(0[1-9]|1[0-2]))\.(?P<ext>parquet|csv)\Z")
# Shaped like an extract name but for a family the contract does not know (e.g. invoices_2021-01.csv).
LOOSE_FILE_NAME_RE = re.compile(r"(?P<family>[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)_\d{4}-\d{2}\.(?:parquet|csv)")
# An Italian tax code (codice fiscale): personal data wherever it appears.
TAX_CODE_PATTERN = "[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}[A-Z]"
# What a tax code in clear is replaced by wherever a text is kept (raw, quarantine, messages).
TAX_CODE_MASK = "<tax code>"
# A tax code has 16 characters: a shorter text (most codes and identifiers) cannot hold one, and skipping the
# regular expression for it makes the loader's read a fifth faster and the checks' privacy scan six times faster.
TAX_CODE_LENGTH = 16

# Earliest plausible event date: older practices are not in any extract of the plan period.
WINDOW_START = date(2000, 1, 1)

DUCKDB_TYPES = {
    "str": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "bool": "BOOLEAN",
    "int": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "double": "DOUBLE",
}

PRODUCTION = ("provincial",)
ANY_LEVEL = ("national", "regional", "provincial", "central")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True
    # A code domain: the name of a reference list (see orchestration.ingest.reference) or fixed values.
    domain: str | None = None
    values: tuple[str, ...] | None = None
    levels: tuple[str, ...] | None = None  # accepted structure levels, for structure codes
    min: float | None = None
    max: float | None = None
    personal: bool = False  # pseudonymised at load, never stored in clear
    window: bool = False  # a date that must lie in [WINDOW_START, end of the file month]

    @property
    def sql_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # The column whose month must be the file's month (rejected whole otherwise); None: no such column.
    month_column: str | None
    date_order: tuple[tuple[str, str], ...] = ()
    # Life-cycle families: delivered as deltas with an opening file; latest state by delivery month.
    stateful: bool = False
    # For min_event_month: the first event of an item (counts only when the item is new) and state events.
    first_event: str | None = None
    state_events: tuple[str, ...] = ()
    feeds: str = ""
    extra_rules: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def personal_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.personal)

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"


def _c(name: str, type_: str, **kw) -> Column:
    return Column(name, type_, **kw)


PRACTICES = Family(
    name="practices",
    description=(
        "Production monitoring: one row per practice per delivery month in which it was received or changed state."
    ),
    columns=(
        _c("practice_id", "str"),
        _c("structure_code", "str", domain="structure", levels=PRODUCTION),
        _c("producing_structure_code", "str", domain="structure", levels=("provincial", "central")),
        _c("product_code", "str", domain="product"),
        _c("received_on", "date", window=True),
        _c("entitlement_on", "date", required=False),
        _c("defined_on", "date", required=False, window=True),
        _c("outcome", "str", required=False, values=("granted", "rejected", "other", "cancelled")),
        _c("changed_on", "date"),
        _c("project_tag", "str", required=False, values=("A", "B", "C")),
        _c("review_flag", "bool"),
        _c("applicant_tax_code", "str", personal=True),
    ),
    key=("practice_id",),
    month_column="changed_on",
    date_order=(("received_on", "defined_on"), ("received_on", "changed_on"), ("defined_on", "changed_on")),
    stateful=True,
    first_event="received_on",
    state_events=("defined_on",),
    feeds="production, backlog, outflow, productivity, times, quality, continuity, sussidiarieta, projects",
    extra_rules=("outcome_requires_defined_on",),
)

CONTACTS = Family(
    name="contacts",
    description="Customer care: one row per contact per delivery month in which it was opened or changed state.",
    columns=(
        _c("contact_id", "str"),
        _c("structure_code", "str", domain="structure", levels=PRODUCTION),
        _c("channel_code", "str", domain="channel"),
        _c("user_type", "str", values=("citizen", "intermediary", "employer")),
        _c("opened_at", "timestamp", window=True),
        _c("first_response_at", "timestamp", required=False, window=True),
        _c("closed_at", "timestamp", required=False, window=True),
        _c("status", "str", values=("open", "answered", "closed")),
        _c("changed_on", "date"),
        _c("requester_tax_code", "str", personal=True),
    ),
    key=("contact_id",),
    month_column="changed_on",
    date_order=(("opened_at", "first_response_at"), ("first_response_at", "closed_at"), ("opened_at", "closed_at")),
    stateful=True,
    first_event="opened_at",
    state_events=("first_response_at", "closed_at"),
    feeds="Customer Care index",
)

COSTS = Family(
    name="costs",
    description="Analytic accounting: structure x month x cost nature x cost class.",
    columns=(
        _c("structure_code", "str", domain="structure", levels=("provincial", "regional", "central")),
        _c("month", "date"),
        _c("cost_nature", "str", domain="cost_nature"),
        _c("cost_class", "str", values=("direct_production", "direct_other", "allocated")),
        _c("amount_eur", "decimal", min=-1e10, max=1e10),
        _c("is_closing", "bool"),
    ),
    key=("structure_code", "month", "cost_nature", "cost_class", "is_closing"),
    month_column="month",
    feeds="cost ratios, cost per point, profitability, litigation impact",
)

REVENUE = Family(
    name="revenue",
    description="IEEP ledger and inspection collections: structure x month x item.",
    columns=(
        _c("structure_code", "str", domain="structure", levels=("provincial", "regional")),
        _c("month", "date"),
        _c("item_code", "str", domain="revenue_item"),
        _c("amount_eur", "decimal", min=0, max=1e11),
    ),
    key=("structure_code", "month", "item_code"),
    month_column="month",
    feeds="IEEP, profitability, F.1, inspection payment",
)

SURVEY = Family(
    name="survey",
    description="Customer experience survey: one row per response.",
    columns=(
        _c("response_id", "str"),
        _c("wave", "int", min=2000, max=2100),
        _c("channel_code", "str", required=False, domain="channel"),
        _c("overall_score", "double", min=1, max=5),
        _c("score_f1", "double", required=False, min=1, max=5),
        _c("score_f2", "double", required=False, min=1, max=5),
        _c("score_f3", "double", required=False, min=1, max=5),
        _c("score_f4", "double", required=False, min=1, max=5),
    ),
    key=("response_id",),
    month_column=None,
    feeds="reputation impact",
)

STAFF = Family(
    name="staff",
    description="Presence: structure x month x sub-area x role.",
    columns=(
        _c("structure_code", "str", domain="structure", levels=("provincial", "regional", "central")),
        _c("month", "date"),
        _c("sub_area_code", "str", domain="sub_area"),
        _c(
            "role",
            "str",
            values=("production", "inspector", "front_desk", "consultancy", "support", "regional_office"),
        ),
        _c("headcount", "int", min=0, max=100_000),
        _c("smart_workers", "int", min=0, max=100_000),
        _c("presence_days", "double", min=0, max=3_000_000),
        _c("smart_working_days", "double", min=0, max=3_000_000),
        _c("working_days", "int", min=1, max=31),
    ),
    key=("structure_code", "month", "sub_area_code", "role"),
    month_column="month",
    feeds="productivity, staff shares, smart-working share",
    extra_rules=("smart_within_headcount",),
)

MILESTONES = Family(
    name="milestones",
    description="Project milestones: project x report date.",
    columns=(
        _c("project_id", "str", domain="project"),
        _c("as_of", "date", window=True),
        _c("completion", "double", min=0, max=1),
        _c("evidence", "str", required=False),
    ),
    key=("project_id", "as_of"),
    month_column="as_of",
    feeds="project leaves of SP",
)

MEASURES = Family(
    name="measures",
    description="Values computed by other systems: indicator x structure x period end.",
    columns=(
        _c("measure_code", "str", domain="measure"),
        _c("structure_code", "str", domain="structure", levels=ANY_LEVEL),
        _c("period_end", "date"),
        _c("value", "double", min=-1e12, max=1e12),
        _c("source", "str", required=False),
    ),
    key=("measure_code", "structure_code", "period_end"),
    month_column="period_end",
    feeds="the remaining leaves",
)

FAMILIES: dict[str, Family] = {
    f.name: f for f in (PRACTICES, CONTACTS, COSTS, REVENUE, SURVEY, STAFF, MILESTONES, MEASURES)
}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown extract family {name!r}; known: {', '.join(FAMILIES)}") from None


def parse_file_name(name: str) -> tuple[str, str, str] | None:
    """Return (family, 'YYYY-MM', ext) for a well-formed name, else None."""
    m = FILE_NAME_RE.fullmatch(name)
    if not m:
        return None
    return m.group("family"), m.group("month"), m.group("ext")
