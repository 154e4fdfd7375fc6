"""Key metrics read from Prometheus (pure): one value per named query, or why there is none."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class KeyMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    values: dict[str, float | None]
    problems: dict[str, str] = {}
    error_target: float = 0.01
    unreachable: str | None = None

    @property
    def error_rate_breached(self) -> bool:
        rate = self.values.get("error_rate")
        return rate is not None and rate > self.error_target
