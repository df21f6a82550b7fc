"""Customer-experience survey: one file per yearly wave, delivered in the month the survey institute hands it over.

A wave is a sample of users, so its size hardly depends on the institute's volume (`scale`). Each response
has an overall mark 1-5, the channel of the respondent's last contact (none for users without contacts) and,
when the respondent answered that section, the four factor scores of the 2020 survey (accessibility,
responsiveness, omnichannel, reliability; plan L1114-1233).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.synthetic.reference import Reference, seed

# Simulation knobs, not plan figures. The 2020 wave's mean is the plan's baseline 3.03 (L4264).
WAVE_MEAN = {2019: 2.96, 2020: 3.03, 2021: 3.24}
WAVE_MEAN_STEP = 0.08  # per year, for waves not listed
RESPONSES_AT_SCALE_1, SIZE_ELASTICITY, MIN_RESPONSES = 3000, 0.2, 200
DELIVERY_MONTH = 6  # a wave is usually handed over in June of its year
LATE_DELIVERY = {2021: 10}  # the 2021 wave arrives late: month-ends before it see the previous wave (stale)
NO_CHANNEL_SHARE = 0.25  # respondents without a recent contact
NO_FACTORS_SHARE = 0.15  # respondents who skipped the factor section
FACTOR_SKIP = 0.05  # each factor item left blank
FACTOR_OFFSET = (-0.05, -0.10, -0.25, -0.15)  # factors score a little below the overall mark (2020 survey)
SCORE_SD = 1.0


def _wave_mean(year: int) -> float:
    if year in WAVE_MEAN:
        return WAVE_MEAN[year]
    nearest = min(WAVE_MEAN, key=lambda y: abs(y - year))
    return WAVE_MEAN[nearest] + WAVE_MEAN_STEP * (year - nearest)


def _marks(rng: np.random.Generator, mean: np.ndarray | float, n: int) -> np.ndarray:
    return np.clip(np.rint(rng.normal(mean, SCORE_SD, n)), 1, 5).astype(float)


def deliveries(
    ref: Reference, scale: float, opening: date, last: date, rng: np.random.Generator
) -> dict[date, pd.DataFrame]:
    """One file per wave: the opening month carries the previous year's wave, so no month-end lacks a wave."""
    channels = seed("channel_standards").channel_code.to_numpy().astype(object)
    n = max(MIN_RESPONSES, int(round(RESPONSES_AT_SCALE_1 * max(scale, 1e-9) ** SIZE_ELASTICITY)))
    out: dict[date, pd.DataFrame] = {}
    for wave in range(opening.year, last.year + 1):
        month = max(date(wave, LATE_DELIVERY.get(wave, DELIVERY_MONTH), 1), opening)
        if month > last:
            continue
        size = int(rng.poisson(n))
        overall = _marks(rng, _wave_mean(wave), size)
        channel = np.where(rng.random(size) < NO_CHANNEL_SHARE, None, channels[rng.integers(0, len(channels), size)])
        skipped = rng.random(size) < NO_FACTORS_SHARE
        frame = {
            "response_id": np.char.add(f"CX{wave}-", np.char.zfill(np.arange(1, size + 1).astype(str), 6)),
            "wave": np.full(size, wave, dtype="int64"),
            "channel_code": channel,
            "overall_score": overall,
        }
        for k, offset in enumerate(FACTOR_OFFSET, start=1):
            f = _marks(rng, overall + offset, size)
            frame[f"score_f{k}"] = np.where(skipped | (rng.random(size) < FACTOR_SKIP), np.nan, f)
        out[month] = pd.DataFrame(frame)
    return out
