"""Incident severities P1–P4 (the operations guide's table), shared by the config, incidents and alerts."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @classmethod
    def parse(cls, text: str) -> Severity | None:
        try:
            return cls(text.strip().upper())
        except ValueError:
            return None


SEVERITY_LABELS = {
    Severity.P1: "Critical",
    Severity.P2: "High",
    Severity.P3: "Medium",
    Severity.P4: "Low",
}
