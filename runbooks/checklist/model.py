"""The Morning Checklist's results (pure): findings per section, per cluster."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    namespace: str | None
    name: str
    why: str
    rank: int = 1  # 3 = broken, 2 = degraded, 1 = worth a look

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


class Section(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    findings: list[Finding] = []
    note: str | None = None
    failed: bool = False  # the check itself could not run (forbidden, timeout, unreachable)
    unanswered: bool = False  # …because the API server did not answer at all (refused, timed out, no route)

    @property
    def clear(self) -> bool:
        return not self.findings and not self.failed


class ClusterHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    reachable: bool
    version: str | None = None
    error: str | None = None
    sections: list[Section] = []
    api_requests: int = 0
    seconds: float = 0.0
