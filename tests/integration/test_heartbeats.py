"""Dead man's switches over the wire: Alertmanager's Watchdog is a heartbeat, not an incident; a silence opens one
incident that pages, once, and is mitigated when beats return; a job's check-in on POST /heartbeat/<name>; the bot's
own start arms every switch. Each test has its own Redis and clock (tests.integration.test_alert_hardening.Rig)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_alert_hardening import Rig, crit
from tests.integration.test_alerts import TOKEN, alert, group
from tests.support.escalation import dms
from tests.support.net import wait_for
from tests.support.slack_recorder import SlackRecorder, own_recorder

SWITCHES = """  heartbeat: {alertname: Watchdog, missing_after: 10m}
heartbeats:
  backup-job: {missing_after: 26h, severity: P3}
"""


recorder = pytest.fixture(scope="module", name="recorder")(own_recorder)


@pytest.fixture
def rig(tmp_path: Path, recorder: SlackRecorder) -> Iterator[Rig]:
    made = Rig(tmp_path, recorder, extra=SWITCHES)
    yield made
    made.close()


def watchdog() -> dict[str, Any]:
    payload = group("Watchdog", [alert("Watchdog", "prometheus-0", severity="none")], severity="none")
    payload["commonAnnotations"] = {"summary": "An alert that should always be firing"}
    return payload


def check_in(rig: Rig, name: str, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{rig.bot.base_url}/heartbeat/{name}", headers=headers, timeout=10)


def moved(rig: Rig, step: timedelta) -> None:
    """The clock moves on and the poller has looked at it (the switches are checked on its ticks)."""
    rig.bot.ticked()
    rig.bot.advance(step)
    rig.bot.ticked()


def test_the_watchdog_is_a_heartbeat_and_its_silence_opens_one_paged_incident_mitigated_when_it_returns(
    rig: Rig, recorder: SlackRecorder
) -> None:
    assert rig.send(watchdog()) == {"status": "ok", "action": "heartbeat", "incident": None}
    moved(rig, timedelta(minutes=9))
    assert rig.send(watchdog())["action"] == "heartbeat"
    moved(rig, timedelta(minutes=9))
    assert rig.incidents() == 0  # beats kept coming: nothing is wrong

    moved(rig, timedelta(minutes=2))  # 11 min since the last beat
    wait_for(lambda: rig.incidents() == 1, what="the silence's incident")
    doc = rig.doc(1)
    assert doc["severity"] == "P2" and doc["title"].startswith("Alerting is silent: no Watchdog from chatops since ")
    wait_for(lambda: dms(recorder, 1, "U0ALICE"), what="the primary paged")
    moved(rig, timedelta(minutes=30))
    assert rig.incidents() == 1  # one incident for one silence, however long it lasts

    assert rig.send(watchdog())["action"] == "heartbeat"
    assert rig.doc(1)["state"] == "mitigated" and rig.doc(1)["acknowledged_by"] is None
    assert "*heartbeat* — Watchdog beats again" in rig.timeline(1)
    moved(rig, timedelta(minutes=11))  # silent again: a new incident
    wait_for(lambda: rig.incidents() == 2, what="the next silence's incident")


def test_a_watchdog_that_never_arrives_is_a_broken_pipeline_too(rig: Rig) -> None:
    moved(rig, timedelta(minutes=11))
    wait_for(lambda: rig.incidents() == 1, what="the incident")
    assert "no Watchdog received since the bot started at " in rig.doc(1)["title"]


def test_a_group_with_the_watchdog_and_a_real_alert_opens_the_real_one_only(rig: Rig) -> None:
    payload = group("Mixed", [alert("Watchdog", "p-0", severity="none"), crit("DiskFull", "db-1")])
    payload["commonAnnotations"] = {}
    answer = rig.send(payload)
    assert answer["action"] == "opened"
    assert "DiskFull" in rig.doc(1)["description"] and "Watchdog" not in rig.doc(1)["description"]


def test_a_job_checks_in_and_a_missed_check_in_opens_an_incident_naming_it(
    tmp_path: Path, recorder: SlackRecorder
) -> None:
    rig = Rig(tmp_path, recorder, extra=SWITCHES.split("\n", 1)[1])  # the job's switch only
    try:
        job_checks_in(rig)
    finally:
        rig.close()


def job_checks_in(rig: Rig) -> None:
    assert check_in(rig, "backup-job", token=None).status_code == 401
    assert check_in(rig, "backup-job", token="wrong").status_code == 401
    unknown = check_in(rig, "restore-job")
    assert unknown.status_code == 404 and "no heartbeat named restore-job" in unknown.text
    assert check_in(rig, "..%2F..%2Fetc").status_code == 404
    ok = check_in(rig, "backup-job")
    assert ok.status_code == 200 and ok.json() == {"status": "ok", "heartbeat": "backup-job",
                                                    "missing_after_seconds": 26 * 3600}  # fmt: skip
    moved(rig, timedelta(hours=25))
    assert rig.incidents() == 0
    moved(rig, timedelta(hours=2))  # 27 h since it checked in
    wait_for(lambda: rig.incidents() == 1, what="the missed check-in's incident")
    doc = rig.doc(1)
    assert doc["severity"] == "P3" and doc["title"].startswith("Heartbeat missed: backup-job has not checked in since")
    assert check_in(rig, "backup-job").status_code == 200
    assert rig.doc(1)["state"] == "mitigated"


def test_two_replicas_open_one_incident_for_one_silence(rig: Rig, tmp_path: Path) -> None:
    from tests.support.harness import Bot

    other = Bot(redis_url=rig.redis.url, slack_api_url=rig.recorder.api_url, config_path=tmp_path / "chatops.yaml",
                log_path=tmp_path / "b.log", clock=rig.clock, extra_env={"ALERTS_TOKEN": TOKEN}).start()  # fmt: skip
    try:
        other.ticked()
        moved(rig, timedelta(minutes=11))
        other.wake()
        other.ticked()
        wait_for(lambda: rig.incidents() >= 1, what="the incident")
        rig.bot.ticked()
        other.ticked()
        assert rig.incidents() == 1
    finally:
        other.terminate()
