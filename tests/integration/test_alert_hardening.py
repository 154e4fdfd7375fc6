"""What a real Alertmanager sends that tripped the bot up, over the wire: storms that must not hide a page, severities
that rise as alerts join, flapping groups with auto-mitigation, re-sends and stale firings, two Alertmanagers, partial
resolutions, truncated groups, hostile labels and a replica that died while opening. Each test has its own Redis and
clock; the module its own Slack stand-in (INC numbers restart per test)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.core import keys
from bot.core.clock import MovableClock
from tests.integration.test_alerts import TOKEN, alert, group, opened, send
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.escalation import dms
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder, blocks_of, own_recorder, text_of_blocks

CONFIG = """
channels: {incidents: C0INCIDENTS}
severities:
  P1: {ack_within: 15m}
  P3: {ack_within: 4h}
oncall: {timezone: UTC, rotation: [U0ALICE, U0BOB], lead: U0LEAD}
permissions: {operators: [U0OPS]}
alerts:
  min_severity: P3
  auto_mitigate: true
  max_new_per_minute: %(limit)d
"""


class Rig:
    def __init__(
        self, tmp: Path, recorder: SlackRecorder, limit: int = 5, extra: str = "", env: dict[str, str] | None = None,
        base: str = CONFIG,
    ) -> None:  # fmt: skip
        self.redis = RedisServer().start()
        self.clock = MovableClock()
        config = tmp / "chatops.yaml"
        config.write_text(textwrap.dedent(base % {"limit": limit}) + extra)
        recorder.reset()
        self.recorder = recorder
        self.bot = Bot(redis_url=self.redis.url, slack_api_url=recorder.api_url, config_path=config,
                       log_path=tmp / "bot.log", clock=self.clock,
                       extra_env={"ALERTS_TOKEN": TOKEN, **(env or {})}).start()  # fmt: skip
        self.slack = SignedSlack(self.bot.base_url, recorder.response_url)
        self.state = redis.Redis.from_url(self.redis.url, decode_responses=True)

    def send(self, payload: Any) -> dict[str, Any]:
        answer = send(self.bot, payload)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def doc(self, number: int) -> dict[str, Any]:
        return dict(json.loads(str(self.state.hget(keys.doc(number), "doc"))))

    def timeline(self, number: int) -> str:
        return ack_text(self.slack.command(f"timeline INC-{number}", user="U0BOB"))

    def incidents(self) -> int:
        return int(self.state.get(keys.SEQ) or 0)

    def close(self) -> None:
        self.slack.close()
        self.state.close()
        self.bot.terminate()
        self.redis.cleanup()


recorder = pytest.fixture(scope="module", name="recorder")(own_recorder)


@pytest.fixture
def rig(tmp_path: Path, recorder: SlackRecorder) -> Iterator[Rig]:
    made = Rig(tmp_path, recorder)
    yield made
    made.close()


def crit(name: str, instance: str, status: str = "firing") -> dict[str, Any]:
    return alert(name, instance, status, severity="critical")


def warn(name: str, instance: str, status: str = "firing") -> dict[str, Any]:
    return alert(name, instance, status, severity="warning")


def resolved(item: dict[str, Any]) -> dict[str, Any]:
    """The same alert (fingerprint and start) as Alertmanager sends it once it resolved."""
    return {**item, "status": "resolved", "endsAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


# Pages that must go out ----------------------------------------------------------------------------------------------
def test_a_critical_group_during_a_warning_storm_pages(tmp_path: Path, recorder: SlackRecorder) -> None:
    rig = Rig(tmp_path, recorder, limit=2)
    try:
        for i in range(4):  # past the limit: warnings gather in the warning storm
            rig.send(group(f"DiskFilling{i}", [warn(f"DiskFilling{i}", f"node-{i}")], severity="warning"))
        warning_storm = rig.send(group("DiskFilling9", [warn("DiskFilling9", "node-9")], severity="warning"))
        assert warning_storm["action"] == "storm"
        critical = rig.send(group("PaymentsDown", [crit("PaymentsDown", "pay-1")], severity="critical"))
        assert critical["action"] == "storm" and critical["incident"] != warning_storm["incident"]
        number = int(critical["incident"].removeprefix("INC-"))
        assert rig.doc(number)["severity"] == "P1"
        assert rig.doc(int(warning_storm["incident"].removeprefix("INC-")))["severity"] == "P3"
        wait_for(lambda: dms(recorder, number, "U0ALICE"), what="the critical group's page")
        assert "PaymentsDown" in rig.timeline(number)
    finally:
        rig.close()


def test_a_critical_alert_joining_a_warning_group_raises_it_and_pages_again(rig: Rig, recorder: SlackRecorder) -> None:
    first = warn("HighErrorRate", "api-1")
    number = opened(send(rig.bot, group("HighErrorRate", [first])))  # no common severity: each alert's own
    assert rig.doc(number)["severity"] == "P3"
    wait_for(lambda: dms(recorder, number, "U0ALICE"), what="the P3 page")
    joined = rig.send(group("HighErrorRate", [first, crit("HighErrorRate", "api-2")]))
    assert joined["action"] == "updated"
    assert rig.doc(number)["severity"] == "P1"
    lines = rig.timeline(number)
    assert "1 more alert firing: HighErrorRate (instance=api-2), critical (P1)" in lines
    assert "P3 → P1" in lines
    wait_for(lambda: len(dms(recorder, number, "U0ALICE")) == 2, what="the primary paged again, for the P1")
    (dm,) = list(dms(recorder, number, "U0ALICE"))[1:]
    assert "P1" in text_of_blocks(blocks_of(dm))

    # A first payload that carries both gets the most urgent at once.
    both = rig.send(group("QueueLag", [warn("QueueLag", "q-1"), crit("QueueLag", "q-2")]))
    assert rig.doc(int(both["incident"].removeprefix("INC-")))["severity"] == "P1"


def test_a_flapping_p1_is_mitigated_by_the_machine_never_acknowledged_and_escalates_when_it_fires_again(
    rig: Rig, recorder: SlackRecorder
) -> None:
    first = crit("PaymentsDB", "db-1")
    number = opened(send(rig.bot, group("PaymentsDB", [first], severity="critical")))
    wait_for(lambda: dms(recorder, number, "U0ALICE"), what="the primary paged")
    assert (
        rig.send(group("PaymentsDB", [resolved(first)], status="resolved", severity="critical"))["action"] == "resolved"
    )
    doc = rig.doc(number)
    assert doc["state"] == "mitigated" and doc["acknowledged_by"] is None and doc["commander"] is None
    assert "*acknowledged*" not in rig.timeline(number)

    rig.clock.advance(timedelta(minutes=1))
    again = crit("PaymentsDB", "db-1")  # a re-fire: a new start
    assert rig.send(group("PaymentsDB", [again], severity="critical"))["action"] == "updated"
    assert rig.doc(number)["state"] == "open"
    assert "*firing again*" in rig.timeline(number)
    rig.bot.ticked()
    rig.clock.advance(timedelta(minutes=15))
    rig.bot.wake()
    wait_for(lambda: dms(recorder, number, "U0BOB"), what="the secondary paged: nobody acknowledged")


def test_one_group_of_a_storm_resolving_leaves_the_storm_incident_alone(
    tmp_path: Path, recorder: SlackRecorder
) -> None:
    rig = Rig(tmp_path, recorder, limit=1)
    try:
        rig.send(group("First", [crit("First", "a")], severity="critical"))
        one, two = crit("NodeDown1", "n-1"), crit("NodeDown2", "n-2")
        storm = rig.send(group("NodeDown1", [one], severity="critical"))
        assert rig.send(group("NodeDown2", [two], severity="critical"))["incident"] == storm["incident"]
        number = int(storm["incident"].removeprefix("INC-"))
        rig.send(group("NodeDown1", [resolved(one)], status="resolved", severity="critical"))
        assert rig.doc(number)["state"] == "open"
        assert "1 group(s) still firing" in rig.timeline(number)
        rig.send(group("NodeDown2", [resolved(two)], status="resolved", severity="critical"))
        assert rig.doc(number)["state"] == "mitigated"
    finally:
        rig.close()


# Wrong outcomes -------------------------------------------------------------------------------------------------------
def test_a_resend_or_a_stale_firing_after_the_end_opens_nothing_and_a_refire_does(rig: Rig) -> None:
    first = crit("CacheDown", "c-1")
    number = opened(send(rig.bot, group("CacheDown", [first], severity="critical")))
    ack_text(rig.slack.command(f"resolve INC-{number} restarted the cache", user="U0BOB"))
    assert rig.send(group("CacheDown", [first], severity="critical"))["action"] == "unchanged"  # still firing: re-sent
    assert rig.incidents() == 1

    other = crit("QueueDown", "q-1")
    mitigated = opened(send(rig.bot, group("QueueDown", [other], severity="critical")))
    rig.send(group("QueueDown", [resolved(other)], status="resolved", severity="critical"))
    assert rig.send(group("QueueDown", [other], severity="critical"))["action"] == "unchanged"  # stale: it ended
    assert rig.doc(mitigated)["state"] == "mitigated" and rig.incidents() == 2

    later = opened(send(rig.bot, group("CacheDown", [crit("CacheDown", "c-1")], severity="critical")))  # a new start
    assert later == 3 and f"INC-{number} had this alert group" in rig.timeline(later)


def test_two_alertmanagers_sending_one_group_key_get_an_incident_each(rig: Rig) -> None:
    payload = group("DiskFull", [crit("DiskFull", "db-1")], severity="critical")
    eu = opened(send(rig.bot, {**payload, "externalURL": "http://alertmanager.eu.example.com:9093"}))
    us = opened(send(rig.bot, {**payload, "externalURL": "http://alertmanager.us.example.com:9093"}))
    assert eu != us


def test_a_partial_resolution_and_a_truncated_group_are_on_the_timeline(rig: Rig) -> None:
    a, b = crit("ApiErrors", "api-1"), crit("ApiErrors", "api-2")
    payload = {**group("ApiErrors", [a, b], severity="critical"), "truncatedAlerts": 3}
    payload["commonAnnotations"] = {"summary": "ApiErrors: error rate above 5%"}  # no description: the count is
    number = opened(send(rig.bot, payload))
    assert "5 alerts firing (3 not sent by Alertmanager" in rig.doc(number)["description"]
    assert rig.send(group("ApiErrors", [a, resolved(b)], severity="critical"))["action"] == "updated"
    assert "1 alert resolved: ApiErrors (instance=api-2) (1 still firing)" in rig.timeline(number)
    assert rig.send(group("ApiErrors", [a, resolved(b)], severity="critical"))["action"] == "unchanged"
    rig.send(group("ApiErrors", [a, crit("ApiErrors", "api-2")], severity="critical"))  # it fires again
    assert "1 more alert firing: ApiErrors (instance=api-2)" in rig.timeline(number)


def test_hostile_labels_times_without_a_zone_and_huge_values_are_made_safe(rig: Rig) -> None:
    sneaky = alert("Evil\u202eroF", "x\x07\ny", severity="critical", team="pay\u202ements\nINFO forged")
    payload = {**group("Evil\u202eroF", [sneaky], severity="critical"), "receiver": "chatops\nERROR forged line"}
    payload["commonAnnotations"] = {}
    payload["groupLabels"] = {"alertname": "Evil\u202eroF", "team": "x" * 100_000}
    payload["commonLabels"] = {**payload["commonLabels"], "blob": "y" * 400_000, "team": "pay\u202ements"}
    number = opened(send(rig.bot, payload))
    doc = rig.state.hget(keys.doc(number), "doc")
    assert doc is not None and len(doc) < 60_000  # 500 KB of label values, clipped
    posted = wait_for(lambda: [c for c in rig.recorder.of("chat.postMessage") if f"INC-{number}" in
                               text_of_blocks(blocks_of(c)) and "thread_ts" not in c.params], what="the announcement")  # fmt: skip
    text = text_of_blocks(blocks_of(posted[0])) + str(posted[0].params["text"])
    assert "\u202e" not in text and "\x07" not in text
    log = Path(rig.bot.log_path).read_text()
    assert not [line for line in log.splitlines() if line.startswith(("ERROR forged", "INFO forged"))]

    ended = {**resolved(sneaky), "endsAt": "2026-12-01T10:00:00"}  # no time zone: read as UTC
    answer = rig.send({**payload, "status": "resolved", "alerts": [ended]})
    assert answer["action"] == "resolved"
    assert "alerts resolved at 2026-12-01 10:00:00 UTC" in rig.timeline(number)


def test_a_replica_that_died_after_opening_leaves_no_second_incident(rig: Rig) -> None:
    payload = group("LostOpen", [crit("LostOpen", "l-1")], severity="critical")
    number = opened(send(rig.bot, payload))
    group_id = rig.state.keys("alerts:{*}:incident")
    (key,) = [k for k in group_id if rig.state.get(k) == str(number)]
    group_hash = key.split("{")[1].split("}")[0]
    # What a replica that died between opening INC-1 and settling the group leaves, once its token expired:
    rig.state.delete(key, keys.alert_fingerprints(group_hash, number))
    rig.state.set(keys.alert_opening(group_hash), "1")
    again = rig.send(group("LostOpen", [crit("LostOpen", "l-1")], severity="critical"))
    assert again["incident"] == f"INC-{number}" and rig.incidents() == 1


def test_a_new_group_joining_a_storm_the_machine_mitigated_takes_the_mitigation_back(
    tmp_path: Path, recorder: SlackRecorder
) -> None:
    rig = Rig(tmp_path, recorder, limit=1)
    try:
        rig.send(group("First", [crit("First", "a")], severity="critical"))
        lone = crit("NodeDown1", "n-1")
        storm = rig.send(group("NodeDown1", [lone], severity="critical"))
        number = int(storm["incident"].removeprefix("INC-"))
        rig.send(group("NodeDown1", [resolved(lone)], status="resolved", severity="critical"))
        assert rig.doc(number)["state"] == "mitigated"
        assert (
            rig.send(group("NodeDown2", [crit("NodeDown2", "n-2")], severity="critical"))["incident"]
            == storm["incident"]
        )
        assert rig.doc(number)["state"] == "open" and "*firing again*" in rig.timeline(number)
    finally:
        rig.close()


def test_the_same_start_firing_again_long_after_it_resolved_is_a_refire_not_a_late_delivery(rig: Rig) -> None:
    """Prometheus restarted restores an alert's start: a firing with the same startsAt minutes after it resolved
    fires again; within 2 min of the resolution it is a late delivery and changes nothing."""
    first = crit("PaymentsDB", "db-1")
    number = opened(send(rig.bot, group("PaymentsDB", [first], severity="critical")))
    rig.send(group("PaymentsDB", [resolved(first)], status="resolved", severity="critical"))
    assert rig.send(group("PaymentsDB", [first], severity="critical"))["action"] == "unchanged"
    assert rig.doc(number)["state"] == "mitigated"
    rig.clock.advance(timedelta(minutes=3))
    assert rig.send(group("PaymentsDB", [first], severity="critical"))["action"] == "updated"
    assert rig.doc(number)["state"] == "open"


def test_a_truncated_payload_resolves_only_the_alerts_it_shows(rig: Rig) -> None:
    a, b = crit("ApiErrors", "api-1"), crit("ApiErrors", "api-2")
    number = opened(send(rig.bot, group("ApiErrors", [a, b], severity="critical")))
    cut = {**group("ApiErrors", [resolved(a)], status="resolved", severity="critical"), "truncatedAlerts": 1}
    assert rig.send(cut)["action"] == "updated"
    assert rig.doc(number)["state"] == "open"
    assert "1 alert resolved: ApiErrors (instance=api-1) (1 still firing)" in rig.timeline(number)
    rest = {**group("ApiErrors", [resolved(b)], status="resolved", severity="critical"), "truncatedAlerts": 1}
    assert rig.send(rest)["action"] == "resolved"
    assert rig.doc(number)["state"] == "mitigated"


def test_a_resolution_finds_the_incident_a_dead_replica_opened(rig: Rig) -> None:
    payload = group("LostOpen", [crit("LostOpen", "l-1")], severity="critical")
    number = opened(send(rig.bot, payload))
    (key,) = [k for k in rig.state.keys("alerts:{*}:incident") if rig.state.get(k) == str(number)]
    group_hash = key.split("{")[1].split("}")[0]
    rig.state.delete(key)
    rig.state.set(keys.alert_opening(group_hash), "1")
    done = rig.send(group("LostOpen", [resolved(payload["alerts"][0])], status="resolved", severity="critical"))
    assert done == {"status": "ok", "action": "resolved", "incident": f"INC-{number}"}
    assert rig.doc(number)["state"] == "mitigated"


def test_a_group_whose_incident_is_open_keeps_its_timeline_when_only_an_info_alert_is_left(rig: Rig) -> None:
    a, info = warn("SlowQueries", "db-1"), alert("SlowQueries", "db-2", severity="info")
    number = opened(send(rig.bot, group("SlowQueries", [a, info])))
    assert rig.send(group("SlowQueries", [resolved(a), info]))["action"] == "updated"
    assert "1 alert resolved: SlowQueries (instance=db-1) (1 still firing)" in rig.timeline(number)
    # The resolved warning is no longer sent: only the info alert, its severity now common to the group.
    left = rig.send(group("SlowQueries", [info], severity="info"))
    assert left == {"status": "ok", "action": "unchanged", "incident": f"INC-{number}"}  # not "no incident opened"


def test_severity_is_kept_past_64_labels(rig: Rig) -> None:
    item = alert("ManyLabels", "m-1", **{f"l{i:02d}": "x" for i in range(80)}, severity="critical")
    payload = group("ManyLabels", [item])
    payload["commonLabels"] = {}
    assert rig.doc(opened(send(rig.bot, payload)))["severity"] == "P1"


def test_an_ha_pair_with_its_own_external_urls_is_one_sender_when_told_so(
    tmp_path: Path, recorder: SlackRecorder
) -> None:
    rig = Rig(tmp_path, recorder, extra="  sender_key: receiver\n")
    try:
        payload = group("DiskFull", [crit("DiskFull", "db-1")], severity="critical")
        a = opened(send(rig.bot, {**payload, "externalURL": "http://alertmanager-0.example.com:9093"}))
        b = rig.send({**payload, "externalURL": "http://alertmanager-1.example.com:9093"})
        assert b == {"status": "ok", "action": "unchanged", "incident": f"INC-{a}"}
    finally:
        rig.close()
