"""Daily capacity samples and their trend (pure): a few bytes each, a linear fit over them, said as a sentence.

A sample is one node group's requests and allocatable on one day, CPU in millicores and memory in MiB, stored as
``"<cpu_req>,<mem_req>,<cpu_alloc>,<mem_alloc>"`` under the day's number (days since 1970-01-01).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from runbooks.checklist.capacity import Group

EPOCH = date(1970, 1, 1)
KEEP_DAYS = 90
MIN_SAMPLES = 7  # a week of samples before a trend is said
MIB = 1024 * 1024


def day_number(day: date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class Sample:
    day: int
    cpu_req: int  # millicores
    mem_req: int  # MiB
    cpu_alloc: int
    mem_alloc: int

    def encode(self) -> str:
        return f"{self.cpu_req},{self.mem_req},{self.cpu_alloc},{self.mem_alloc}"

    @classmethod
    def of(cls, day: int, group: Group) -> Sample:
        return cls(
            day,
            round(group.requested.cpu * 1000),
            round(group.requested.memory / MIB),
            round(group.allocatable.cpu * 1000),
            round(group.allocatable.memory / MIB),
        )


def decode(fields: Mapping[str, str]) -> list[Sample]:
    """A group's hash (day → value) as samples by day; a field that is not a sample is skipped."""
    out = []
    for day, value in fields.items():
        try:
            numbers = [int(v) for v in value.split(",")]
            out.append(Sample(int(day), *numbers[:4]))
        except (ValueError, TypeError):
            continue
    return sorted(out, key=lambda s: s.day)


def slope(points: Iterable[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 when x does not vary)."""
    pts = list(points)
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    var = sum((x - mx) ** 2 for x, _ in pts)
    return 0.0 if var == 0 else sum((x - mx) * (y - my) for x, y in pts) / var


def _pct(value: float) -> str:
    return f"{value:.1f}" if abs(value) < 1 else f"{value:.0f}"


def _resource(what: str, samples: list[Sample], requested: str, allocatable: str) -> str:
    per_day = slope((s.day, getattr(s, requested)) for s in samples)
    last = samples[-1]
    now, room = getattr(last, requested), getattr(last, allocatable) - getattr(last, requested)
    weekly = per_day * 7
    pct = 100 * weekly / now if now else 0.0
    if abs(pct) < 0.5:
        return f"{what} requests steady ({_pct(pct)} %/week)"
    if weekly < 0:
        return f"{what} requests shrink {_pct(-pct)} %/week"
    if room <= 0:
        return f"{what} requests grow {_pct(pct)} %/week; already at allocatable"
    weeks = room / weekly
    if weeks < 1:
        full = "full within a week at this rate"
    elif weeks > 52:
        full = "full in over a year at this rate"
    else:
        full = f"full in ~{weeks:.0f} weeks at this rate"
    return f"{what} requests grow {_pct(pct)} %/week; {full}"


def sentence(samples: list[Sample]) -> str:
    """The trend of one group's requests, or how many days of samples there are so far."""
    if len(samples) < MIN_SAMPLES:
        days = len(samples)
        return f"trend: not enough samples yet ({days} day{'s' if days != 1 else ''})"
    cpu = _resource("CPU", samples, "cpu_req", "cpu_alloc")
    memory = _resource("memory", samples, "mem_req", "mem_alloc")
    return f"trend over {len(samples)} days: {cpu}; {memory}"
