"""Italian number formats and the score colour scale shared by the report's tables and charts."""

from __future__ import annotations

import datetime as dt
import math

MONTHS_IT = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
             "ottobre", "novembre", "dicembre")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
MONTHS_IT_SHORT = ("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic")

# Units of dim_kpi, labelled the way the plan writes them (Italian / English).
UNIT_LABELS = {
    "eur": "€",
    "pct": "%",
    "days": "giorni / days",
    "pieces": "pratiche / pieces",
    "points": "punti / points",
    "points_per_fte_month": "punti per FTE-mese / points per FTE-month",
    "eur_per_point": "€ per punto / per point",
    "count": "numero / count",
    "units": "unità / units",
    "followers": "follower",
    "score_1_5": "punteggio 1-5 / score 1-5",
    "index": "indice / index",
    "ratio": "rapporto / ratio",
    "achievement": "grado di raggiungimento / achievement",
    "completion": "completamento / completion",
}


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v)))


def num(v, digits: int = 2) -> str:
    """1234567.891 -> '1.234.567,89': the thousands dot and decimal comma of Italian documents."""
    if _is_missing(v):
        return "—"
    s = f"{v:,.{digits}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def auto(v, unit: str | None = None) -> str:
    """A value in its unit's usual precision: euros to the cent, large counts whole, small ratios to 2-4 places."""
    if _is_missing(v):
        return "—"
    if unit == "eur":
        return num(v, 2)
    if unit == "completion":
        # Completion is a share of the year's planned output.
        return num(v * 100, 1) + " %"
    if unit == "pct":
        # Percent leaves are stored in points (86.0 = 86 %), as the plan prints them.
        return num(v, 2) + " %"
    a = abs(v)
    if a >= 1000:
        return num(v, 0)
    if unit in ("completion", "achievement", "ratio") or a < 10:
        return num(v, 4 if a < 1 else 3)
    return num(v, 2)


def pct(v, digits: int = 1, signed: bool = False) -> str:
    if _is_missing(v):
        return "—"
    s = num(v * 100, digits)
    if signed and v > 0:
        s = "+" + s
    return s + " %"


def compact(v) -> str:
    """Axis ticks: 2.500.000.000 -> '2,5 mld'; mila / mln / mld as Italian finance writes them."""
    if _is_missing(v):
        return "—"
    if v == 0:
        return "0"
    a = abs(v)
    for size, word in ((1e9, "mld"), (1e6, "mln"), (1e3, "mila")):
        if a >= size:
            q = v / size
            return f"{num(q, 0 if abs(q) >= 100 else 1)} {word}"
    return num(v, 0 if a >= 10 else 2)


def value(v) -> str:
    """Any cell of a table the report does not know the layout of (data-quality results, period status)."""
    if _is_missing(v):
        return "—"
    if isinstance(v, bool):
        return "sì / yes" if v else "no"
    if isinstance(v, int):
        return num(v, 0)
    if isinstance(v, float):
        return auto(v)
    if isinstance(v, dt.datetime):
        return v.strftime("%d/%m/%Y %H:%M")
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    return str(v)


def place_name(name: str | None) -> str:
    """'DCM NAPOLI' -> 'DCM Napoli', "VALLE D'AOSTA" -> "Valle d'Aosta": the plan prints structures in capitals."""
    if not name:
        return ""
    if not name.isupper():
        return name
    words = []
    for w in name.title().split(" "):
        if w.upper() in ("DCM", "DR", "INPS"):
            w = w.upper()
        elif w.startswith("D'") and words:
            w = "d'" + w[2:]
        words.append(w)
    return " ".join(words)


def period_label(period_end: dt.date) -> str:
    return f"{MONTHS_IT[period_end.month - 1]} {period_end.year} / {MONTHS_EN[period_end.month - 1]} {period_end.year}"


# Diverging scale centred on 100 (target met): red below, green above, pale at the target.
_STOPS = (
    (70.0, (178, 24, 43)),
    (85.0, (239, 138, 98)),
    (100.0, (247, 240, 186)),
    (115.0, (145, 207, 96)),
    (130.0, (26, 152, 80)),
)
NO_SCORE_COLOUR = "#d5d8dc"


def score_colour(score) -> str:
    if _is_missing(score):
        return NO_SCORE_COLOUR
    s = min(max(float(score), _STOPS[0][0]), _STOPS[-1][0])
    for (x0, c0), (x1, c1) in zip(_STOPS, _STOPS[1:], strict=False):
        if s <= x1:
            t = (s - x0) / (x1 - x0)
            r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1, strict=True))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#{:02x}{:02x}{:02x}".format(*_STOPS[-1][1])


def text_colour(score) -> str:
    """Dark text on the pale middle of the scale, white on its saturated ends."""
    if _is_missing(score):
        return "#1b2631"
    return "#ffffff" if score < 78 or score > 124 else "#1b2631"
