from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.severity import Severity
from bot.incidents.model import Incident
from bot.oncall.chain import Target, restarted, step_due, target_for, targets

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
INC = Incident(
    number=1, title="t", severity=Severity.P1, opened_by="U1", opened_at=T0, respond_by=T0 + timedelta(minutes=15)
)
W, R = timedelta(minutes=15), timedelta(minutes=10)


def test_chain_skips_missing_and_repeated_people() -> None:
    assert targets("UA", "UB", "UL") == [Target("primary", "UA"), Target("secondary", "UB"), Target("lead", "UL")]
    assert targets("UA", None, "UA") == [Target("primary", "UA")]
    assert targets(None, None, None) == []


def test_last_step_repeats() -> None:
    chain = targets("UA", "UB", "UL")
    assert [target_for(s, chain).user for s in range(1, 6)] == ["UA", "UB", "UL", "UL", "UL"]  # type: ignore[union-attr]
    assert target_for(1, []) is None


def test_due_times_full_chain() -> None:
    due = [step_due(INC, s, 3, W, R) - T0 for s in range(1, 6)]
    assert due == [
        timedelta(0),
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(minutes=40),
        timedelta(minutes=50),
    ]


def test_due_times_primary_only_repeats_after_deadline() -> None:
    due = [step_due(INC, s, 1, W, R) - T0 for s in range(1, 5)]
    assert due == [timedelta(0), timedelta(minutes=15), timedelta(minutes=25), timedelta(minutes=35)]


def test_severity_change_moves_the_due_time() -> None:
    later = INC.model_copy(update={"respond_by": T0 + timedelta(hours=1)})
    assert step_due(later, 2, 3, timedelta(hours=1), R) - T0 == timedelta(hours=1)


def test_a_chain_started_again_gives_the_first_person_their_window_from_then() -> None:
    late = restarted(INC, T0 + timedelta(hours=2, minutes=15))  # handed over while mitigated, firing again 2 h on
    assert [step_due(late, s, 3, W, R) - T0 for s in (2, 3)] == [
        timedelta(hours=2, minutes=15),
        timedelta(hours=2, minutes=30),
    ]
    assert restarted(INC, T0) is INC  # a deadline later than the one from the restart stands
