from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.severity import Severity
from bot.incidents import machine
from bot.incidents.model import Action, Incident, State

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def incident(state: State = State.OPEN, **kw: object) -> Incident:
    return Incident(
        number=7,
        title="t",
        severity=Severity.P2,
        state=state,
        opened_by="U1",
        opened_at=T0,
        respond_by=T0 + timedelta(hours=1),
        **kw,
    )  # type: ignore[arg-type]


ALLOWED = {
    (State.OPEN, Action.ACKNOWLEDGE): State.ACKNOWLEDGED,
    (State.OPEN, Action.MITIGATE): State.MITIGATED,
    (State.OPEN, Action.RESOLVE): State.RESOLVED,
    (State.ACKNOWLEDGED, Action.MITIGATE): State.MITIGATED,
    (State.ACKNOWLEDGED, Action.RESOLVE): State.RESOLVED,
    (State.MITIGATED, Action.RESOLVE): State.RESOLVED,
    (State.RESOLVED, Action.REOPEN): State.ACKNOWLEDGED,
    (State.RESOLVED, Action.CLOSE): State.CLOSED,
}


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_transition_table(state: State, action: Action) -> None:
    current = incident(state)
    if (state, action) in ALLOWED:
        updated, entry = machine.apply(current, action, "U2", T0 + timedelta(minutes=3), "note")
        assert updated.state is ALLOWED[(state, action)]
        assert updated.version == current.version + 1
        assert entry.actor == "U2" and entry.text.startswith("note") and entry.kind == machine.PAST_TENSE[action]
    else:
        with pytest.raises(machine.TransitionRefused) as err:
            machine.apply(current, action, "U2", T0)
        assert err.value.incident.state is state
        assert state.value in str(err.value)


def test_acknowledge_records_who_and_when_and_sets_commander() -> None:
    now = T0 + timedelta(minutes=4)
    updated, _ = machine.apply(incident(), Action.ACKNOWLEDGE, "U9", now)
    assert (updated.acknowledged_by, updated.acknowledged_at, updated.commander) == ("U9", now, "U9")


def test_resolve_from_open_also_records_acknowledgement() -> None:
    updated, _ = machine.apply(incident(), Action.RESOLVE, "U3", T0 + timedelta(minutes=1))
    assert updated.acknowledged_by == "U3" and updated.resolved_by == "U3"


def test_reopen_clears_resolution_but_keeps_acknowledgement() -> None:
    resolved = incident(State.RESOLVED, acknowledged_by="U1", acknowledged_at=T0, resolved_by="U1", resolved_at=T0)
    updated, entry = machine.apply(resolved, Action.REOPEN, "U2", T0 + timedelta(hours=1))
    assert updated.state is State.ACKNOWLEDGED and updated.resolved_at is None and updated.acknowledged_by == "U1"
    assert entry.kind == "reopened"


def test_severity_change_moves_deadline_and_is_refused_when_closed_or_same() -> None:
    new_deadline = T0 + timedelta(minutes=15)
    updated, entry = machine.change_severity(incident(), Severity.P1, new_deadline, actor="U1", now=T0)
    assert updated.severity is Severity.P1 and updated.respond_by == new_deadline and entry.text == "P2 → P1"
    with pytest.raises(machine.SeverityUnchanged):
        machine.change_severity(incident(), Severity.P2, new_deadline, actor="U1", now=T0)
    with pytest.raises(machine.TransitionRefused):
        machine.change_severity(incident(State.CLOSED), Severity.P1, new_deadline, actor="U1", now=T0)


def test_allowed_actions_follow_the_table() -> None:
    assert machine.allowed_actions(State.OPEN) == [Action.ACKNOWLEDGE, Action.MITIGATE, Action.RESOLVE]
    assert machine.allowed_actions(State.CLOSED) == []


def test_close_records_whether_a_postmortem_exists() -> None:
    resolved = incident(State.RESOLVED)
    _, entry = machine.apply(resolved, Action.CLOSE, "U1", T0)
    assert entry.text == "no post-mortem drafted"
    drafted, _ = machine.postmortem_drafted(resolved, "U1", T0)
    _, entry = machine.apply(drafted, Action.CLOSE, "U1", T0, "done")
    assert entry.text == "done (post-mortem drafted)"


def test_assign_update_and_refusals() -> None:
    assigned, entry = machine.assign(incident(), "U7", "U1", T0, operator=True)
    assert assigned.commander == "U7" and entry.text == "nobody → <@U7>"
    with pytest.raises(machine.NoChange):
        machine.assign(assigned, "U7", "U1", T0, operator=True)
    # Without a commander a person may take the role only themselves; then the commander hands over.
    with pytest.raises(machine.NotAllowed, match="you may take it yourself"):
        machine.assign(incident(), "U7", "U1", T0)
    taken, _ = machine.assign(incident(), "U1", "U1", T0)
    with pytest.raises(machine.NotAllowed, match="Only the commander"):
        machine.assign(taken, "U2", "U2", T0)
    handed, _ = machine.assign(taken, "U2", "U1", T0)
    assert handed.commander == "U2"
    updated, entry = machine.status_update(assigned, "rolling back", "U7", T0)
    assert updated.last_update_at == T0 and entry.kind == "status update"
    with pytest.raises(machine.TransitionRefused):
        machine.status_update(incident(State.CLOSED), "x", "U1", T0)
