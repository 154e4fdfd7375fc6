"""Key metrics read from Prometheus (pure): one value per named query, or why there is none."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Series(BaseModel):
    """One series of a query that answered several: the labels that tell it from the others, and its value."""

    model_config = ConfigDict(frozen=True)

    labels: dict[str, str]
    value: float | None  # None: NaN


class SeriesSet(BaseModel):
    """A query that answered several series: the largest ``shown`` (largest first), and how many were left out."""

    model_config = ConfigDict(frozen=True)

    shown: list[Series]
    more: int = 0


class KeyMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    # One value per metric (a scalar, a one-series vector, a number as a string); for several series the largest,
    # their list in ``series``.
    values: dict[str, float | None]
    series: dict[str, SeriesSet] = {}
    problems: dict[str, str] = {}
    error_target: float = 0.01
    unreachable: str | None = None

    @property
    def error_rate_breached(self) -> bool:
        rate = self.values.get("error_rate")
        return rate is not None and rate > self.error_target
