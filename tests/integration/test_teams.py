"""Teams over the real wire (signed requests, a real Redis, the Slack stand-in, the bot's movable clock): two teams
with overlapping hours and a follow-the-sun layer, `/oncall` at given instants, alerts routed to the team that owns
them, an incident handed over (by its commander or an operator only), a cover request taken by one of twenty
simultaneous clicks (or by a member of its user group), a cover asked of one person until a time, a swap accepted or
declined, each team's hand-off at its own time, and check-config's gap."""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.clock import MovableClock
from tests.integration.test_home import opened, publishes, view_of
from tests.support.bot_process import SignedSlack, ack_text, run_cli
from tests.support.escalation import dms
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import Call, SlackRecorder, blocks_of, text_of_blocks

TOKEN = "alerts-token-0123456789abcdef"
TAKERS = ["U0BOB", "U0CAROL", "U0DAN", "U0EVE", "U0LEAD"]  # members of platform


def wednesday_3am() -> datetime:
    """The next Wednesday 03:00 UTC at least a day from now: week 0 of both rotations (their anchors set so)."""
    now = datetime.now(UTC) + timedelta(days=1)
    days = (2 - now.weekday()) % 7
    target = (now + timedelta(days=days)).replace(hour=3, minute=0, second=0, microsecond=0)
    return target if target > now else target + timedelta(days=7)


CONFIG = """
channels: {incidents: C0INCIDENTS}
escalation: {repeat_every: 10m}
permissions: {operators: [U0OPS]}
default_team: platform
alerts:
  routes:
    - {match: ["alertname=BillingLag"], team: data}
teams:
  platform:
    channel: C0PLATFORM
    user_group: S0PLATFORM
    owns: {namespaces: [kube-system, ingress], labels: {team: platform}}
    schedules:
      - {name: weekly, rotation: [U0ALICE, U0BOB, U0CAROL], handoff: "mon 09:00", timezone: UTC, rotation_start: %(mon)s}
      - {name: follow-the-sun, layers: [{rotation: [U0DAN, U0EVE], hours: "00:00-08:00", timezone: UTC}]}
    lead: U0LEAD
  data:
    channel: C0DATA
    owns: {namespaces: [kafka], labels: {team: data}, rds: [prod-db]}
    schedules:
      - {name: weekly, rotation: [U0FAY, U0GUS], handoff: "tue 10:00", rotation_start: %(tue)s}
      - {name: evening, layers: [{rotation: [U0HAL], hours: "16:00-24:00"}]}
    lead: U0DLEAD
"""


@pytest.fixture
def target() -> datetime:
    return wednesday_3am()


@pytest.fixture
def bot(tmp_path: Path, recorder: SlackRecorder, target: datetime) -> Iterator[Bot]:
    server = RedisServer().start()
    path = tmp_path / "chatops.yaml"
    monday, tuesday = (target - timedelta(days=2)).date(), (target - timedelta(days=1)).date()
    path.write_text(textwrap.dedent(CONFIG % {"mon": monday.isoformat(), "tue": tuesday.isoformat()}))
    clock = MovableClock()
    clock.advance(target - clock())  # the instant the test looks at
    recorder.reset()
    bot = Bot(redis_url=server.url, slack_api_url=recorder.api_url, config_path=path, log_path=tmp_path / "bot.log",
              clock=clock, extra_env={"ALERTS_TOKEN": TOKEN}).start()  # fmt: skip
    yield bot
    bot.terminate()
    recorder.reset()
    server.cleanup()


@pytest.fixture
def slack(bot: Bot, recorder: SlackRecorder) -> Iterator[SignedSlack]:
    client = SignedSlack(bot.base_url, recorder.response_url)
    yield client
    client.close()


def oncall(slack: SignedSlack, text: str = "", user: str = "U0ZED") -> str:
    return ack_text(slack.command(text, command="/oncall", user=user))


def move_to(bot: Bot, instant: datetime) -> None:
    bot.advance(instant - bot.clock())


def fire(bot: Bot, name: str, /, **labels: str) -> int:
    now = datetime.now(UTC)
    alert = {
        "status": "firing",
        "labels": {"alertname": name, "severity": "critical", **labels},
        "annotations": {"summary": f"{name} firing"},
        "startsAt": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": hashlib.sha256(f"{name}{labels}".encode()).hexdigest()[:16],
    }
    payload = {
        "version": "4", "groupKey": f'{{}}:{{alertname="{name}",x="{sorted(labels.items())}"}}', "truncatedAlerts": 0,
        "status": "firing", "receiver": "chatops", "groupLabels": {"alertname": name},
        "commonLabels": alert["labels"], "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager.example.com:9093", "alerts": [alert],
    }  # fmt: skip
    answer = httpx.post(f"{bot.base_url}/alerts/alertmanager", json=payload,
                        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=20)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return int(str(answer.json()["incident"]).removeprefix("INC-"))


def test_oncall_names_each_teams_people_at_given_instants(bot: Bot, slack: SignedSlack, target: datetime) -> None:
    night = oncall(slack)  # Wednesday 03:00 UTC: platform's follow-the-sun layer, data's weekly rotation
    assert "*platform* — primary <@U0DAN> (follow-the-sun 00:00-08:00), secondary <@U0EVE>" in night
    assert "*data* — primary <@U0FAY>, secondary <@U0GUS>, lead <@U0DLEAD>" in night
    assert "then <@U0ALICE> (primary)" in night  # at 08:00 the weekly rotation takes platform again
    move_to(bot, target + timedelta(hours=14))  # 17:00: platform's weekly, data's evening layer (overlapping hours)
    evening = oncall(slack)
    assert "*platform* — primary <@U0ALICE>, secondary <@U0BOB>" in evening
    assert "*data* — primary <@U0HAL> (evening 16:00-24:00), secondary <@U0FAY>" in evening
    one = oncall(slack, "data")
    assert "<@U0HAL>" in one and "platform" not in one
    assert "`nope` is not a team; the teams are: platform, data." in oncall(slack, "handoff nope")
    move_to(bot, target + timedelta(days=6, hours=14))  # the next Tuesday 17:00: both rotations turned
    later = oncall(slack)
    assert "*platform* — primary <@U0BOB>, secondary <@U0CAROL>" in later
    assert "*data* — primary <@U0HAL> (evening 16:00-24:00), secondary <@U0GUS>" in later


def test_alerts_page_the_team_that_owns_them(bot: Bot, slack: SignedSlack, recorder: SlackRecorder) -> None:
    labelled = fire(bot, "ConsumerLag", team="data", namespace="kube-system")  # the label wins over the namespace
    wait_for(lambda: dms(recorder, labelled, "U0FAY", [bot]), what="data's primary paged")
    by_namespace = fire(bot, "BrokerDown", namespace="kafka")
    wait_for(lambda: dms(recorder, by_namespace, "U0FAY", [bot]), what="kafka's alert at data's primary")
    routed = fire(bot, "BillingLag", namespace="payments")  # alerts.routes names the team
    wait_for(lambda: dms(recorder, routed, "U0FAY", [bot]), what="the route's team paged")
    nobody = fire(bot, "NodeDown", node="ip-10-0-0-1")  # owned by no team: the default team's
    wait_for(lambda: dms(recorder, nobody, "U0DAN", [bot]), what="the default team's primary paged")
    bot.ticked()
    for number in (labelled, by_namespace, routed):
        assert not dms(recorder, number, "U0DAN", [bot]), number  # platform's primary is not paged
    status = ack_text(slack.command(f"status INC-{labelled}"))
    assert "data" in status
    announcement = next(c for c in recorder.of("chat.postMessage") if f"INC-{labelled}:" in text_of_blocks(
        blocks_of(c)) and c.params.get("channel") == "C0INCIDENTS")  # fmt: skip
    assert "*Team*\ndata" in text_of_blocks(blocks_of(announcement))


def test_the_rds_instance_or_service_names_the_owning_team(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder
) -> None:
    exporter = fire(bot, "RDSCPUHigh", dbinstance_identifier="prod-db")  # cloudwatch_exporter's label
    yace = fire(bot, "RDSFreeStorageLow", name="arn:aws:rds:eu-west-1:123456789012:db:prod-db")  # YACE: the ARN
    short = fire(bot, "RDSConnections", rds="prod-db")
    other = fire(bot, "RDSReplicaLag", dbinstance_identifier="billing-db")  # an instance nobody owns
    for number in (exporter, yace, short):
        wait_for(lambda n=number: dms(recorder, n, "U0FAY", [bot]), what=f"INC-{number} at data's primary")
    wait_for(lambda: dms(recorder, other, "U0DAN", [bot]), what="the default team's primary paged")
    opened = ack_text(slack.command("open P1 Consumers stuck --service=kafka/consumer", user="U0REPORTER"))
    assert "team *data*" in opened  # the team owning the namespace
    number = int(opened.split("*INC-")[1].split("*")[0])
    wait_for(lambda: dms(recorder, number, "U0FAY", [bot]), what="data's primary paged at open")
    unowned = ack_text(slack.command("open P1 Checkout slow --service=payments/api", user="U0REPORTER"))
    assert "team *platform*" in unowned  # nobody owns payments: the default team
    named = ack_text(slack.command("open P1 Broker disk --service=kafka/broker --team=platform", user="U0REPORTER"))
    assert "team *platform*" in named  # --team= wins over the service's owner
    bot.ticked()
    for number in (exporter, yace, short):
        assert not dms(recorder, number, "U0DAN", [bot]), number


def test_a_handed_over_incident_pages_the_new_team(bot: Bot, slack: SignedSlack, recorder: SlackRecorder) -> None:
    text = ack_text(slack.command("open P1 Disk full on the brokers", user="U0REPORTER"))
    number = int(text.split("*INC-")[1].split("*")[0])
    assert "team *platform*" in text
    wait_for(lambda: dms(recorder, number, "U0DAN", [bot]), what="platform's primary paged at open")
    refused = ack_text(slack.command(f"team INC-{number} nope", user="U0REPORTER"))
    assert "`nope` is not a team" in refused
    moved = ack_text(slack.command(f"team INC-{number} data", user="U0REPORTER"))
    assert f"INC-{number} is team *data*'s now" in moved
    wait_for(lambda: dms(recorder, number, "U0FAY", [bot]), what="data's primary paged after the hand-over")
    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert "team platform → team data" in timeline
    again = ack_text(slack.command(f"team INC-{number} data", user="U0REPORTER"))
    assert "is team data's already" in again


def _request(recorder: SlackRecorder, channel: str) -> Call:
    found = [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == channel
             and "oncall_cover_take" in json.dumps(c.params.get("blocks"))]  # fmt: skip
    assert found, f"no cover request in {channel}"
    return found[-1]


def _request_id(call: Call) -> str:
    blocks: Any = blocks_of(call)
    return str(next(b for b in blocks if b["type"] == "actions")["elements"][0]["value"])


def _responses(recorder: SlackRecorder, since: int) -> list[str]:
    return [str(c.params.get("text")) for c in recorder.of("response_url")[since:]]


def test_twenty_simultaneous_takers_one_takes_the_cover(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, target: datetime
) -> None:
    move_to(bot, target + timedelta(hours=14))  # 17:00: Alice is platform's primary
    assert "Write it as" in oncall(slack, "cover 4x", user="U0ALICE")  # a bad duration asks nothing
    assert not [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0PLATFORM"]
    asked = oncall(slack, "cover 4h", user="U0ALICE")
    assert "Asked team platform" in asked
    request = _request_id(wait_for(lambda: _request(recorder, "C0PLATFORM"), what="the request posted"))  # type: ignore[arg-type]
    since = len(recorder.of("response_url"))
    slack.click("oncall_cover_take", request, user="U0ZED")  # not of the team
    wait_for(lambda: any("Only members of team platform" in t for t in _responses(recorder, since)), what="refused")
    assert "primary <@U0ALICE>" in oncall(slack, "platform")  # the refusal changed nothing
    since = len(recorder.of("response_url"))
    clients = [SignedSlack(bot.base_url, recorder.response_url) for _ in range(20)]
    try:
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda i: clients[i].click("oncall_cover_take", request, user=TAKERS[i % 5]),
                                    range(20)))  # fmt: skip
    finally:
        for client in clients:
            client.close()
    assert all(a.status_code == 200 for a in answers)
    wait_for(lambda: len(_responses(recorder, since)) >= 20, what="every click answered")
    said = _responses(recorder, since)
    won = [t for t in said if t.startswith("You cover <@U0ALICE>")]
    assert len(won) == 1, said
    told = wait_for(lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "U0ALICE"
                             and "covers you" in str(c.params.get("text"))], what="the requester told")  # fmt: skip
    taker = next(u for u in TAKERS if f"<@{u}> covers you" in str(told[0].params.get("text")))  # type: ignore[index]
    others = [t for t in said if t not in won]
    assert len(others) == 19 and all(t == f"Already taken by <@{taker}>." or t.startswith("You took it already: you "
                                     "cover <@U0ALICE>") for t in others)  # fmt: skip
    assert sum(t.startswith("Already taken by") for t in others) >= 15, said  # the taker's own later clicks aside
    assert f"primary <@{taker}> (cover)" in oncall(slack, "platform")
    wait_for(lambda: any(f"Covered by <@{taker}>" in str(c.params.get("text")) for c in recorder.of("chat.update")),
             what="the request says who took it")  # fmt: skip
    oncall(slack, "handoff platform")
    checklist = wait_for(lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0PLATFORM"
                                  and "Covers and swaps" in json.dumps(c.params.get("blocks"))], what="hand-off")  # fmt: skip
    assert f"<@{taker}> for <@U0ALICE>" in json.dumps(checklist[0].params.get("blocks"))  # type: ignore[index]
    move_to(bot, target + timedelta(hours=17, minutes=59))  # just before the four hours are over: still covered
    assert f"primary <@{taker}> (cover)" in oncall(slack, "platform")
    move_to(bot, target + timedelta(hours=18, seconds=10))  # four hours after it was asked (this test's seconds)
    assert "primary <@U0ALICE>, secondary <@U0BOB>" in oncall(slack, "platform")


def _home_take(slack: SignedSlack, recorder: SlackRecorder, user: str, team: str) -> None:
    """``user`` opens the App Home and clicks ``team``'s "Take over for 4h"."""
    since = len(recorder.of("views.publish"))
    opened(slack, user)
    view = view_of(wait_for(lambda: publishes(recorder, user, since), what=f"{user}'s App Home")[0])  # type: ignore[index]
    (take,) = [e for b in view["blocks"] for e in [b.get("accessory") or {}]
               if e.get("action_id") == "home_take_over" and e.get("value") == f"team:{team}"]  # fmt: skip
    slack.click("home_take_over", take["value"], user=user, home=True)


def _said_to(recorder: SlackRecorder, channel: str, text: str) -> bool:
    return any(c.params.get("channel") == channel and text in str(c.params.get("text"))
               for c in recorder.of("chat.postMessage"))  # fmt: skip


def test_take_over_from_the_home_is_one_click_for_operators_a_request_for_others(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder
) -> None:
    _home_take(slack, recorder, "U0OPS", "platform")  # Wednesday 03:00: Dan is platform's primary
    wait_for(lambda: _said_to(recorder, "U0OPS", "You are primary of team platform until"), what="taken at once")
    assert "*platform* — primary <@U0OPS> (cover)" in oncall(slack, "platform")
    _home_take(slack, recorder, "U0ZED", "data")  # no operator: data's primary is asked
    wait_for(lambda: _said_to(recorder, "U0ZED", "Asked <@U0FAY> (primary of data) to let you take over"),
             what="the asker told")  # fmt: skip
    asked = wait_for(lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "U0FAY"
                              and "oncall_request_accept" in json.dumps(c.params.get("blocks"))], what="asked")  # fmt: skip
    assert "*data* — primary <@U0FAY>" in oncall(slack, "data")  # nothing changes until Fay lets them
    since = len(recorder.of("response_url"))
    slack.click("oncall_request_accept", _request_id(asked[0]), user="U0FAY")  # type: ignore[index]
    wait_for(lambda: "Accepted." in _responses(recorder, since), what="let")
    assert "*data* — primary <@U0ZED> (cover)" in oncall(slack, "data")
    assert "*platform* — primary <@U0OPS> (cover)" in oncall(slack, "platform")


def test_check_config_reports_a_schedule_gap(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent("""
        channels: {incidents: C0INCIDENTS}
        teams:
          ops:
            schedules: [{name: sun, layers: [{rotation: [U0ANN], hours: "22:00-06:00"}]}]
            lead: U0OPSLEAD
          web:
            schedules: [{rotation: [U0ANN]}]
        """))  # fmt: skip
    result = run_cli("check-config", "--file-only", env={"CHATOPS_CONFIG": str(path)})
    assert result.returncode == 0, result.stderr
    assert "warning: team ops: 06:00-22:00 UTC covered by no layer and no weekly schedule (lead U0OPSLEAD takes" in (
        result.stdout
    )
    assert "warning: U0ANN is primary in both ops and web at" in result.stdout


def test_a_swap_is_accepted_by_the_other_person_only(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, target: datetime
) -> None:
    move_to(bot, target + timedelta(hours=14))  # 17:00: Alice primary, Bob secondary
    assert "is not a day" in oncall(slack, "swap <@U0BOB> tomorrow", user="U0ALICE")
    assert "no team together" in oncall(slack, "swap <@U0FAY> " + target.date().isoformat(), user="U0ALICE")
    assert "Asked <@U0BOB> to swap" in oncall(slack, "swap <@U0BOB> " + target.date().isoformat(), user="U0ALICE")
    proposal = wait_for(lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "U0BOB"
                                 and "oncall_request_accept" in json.dumps(c.params.get("blocks"))], what="asked")  # fmt: skip
    request = _request_id(proposal[0])  # type: ignore[index]
    since = len(recorder.of("response_url"))
    slack.click("oncall_request_accept", request, user="U0CAROL")  # not the person asked
    wait_for(lambda: any("Only <@U0BOB> answers" in t for t in _responses(recorder, since)), what="refused")
    assert "primary <@U0ALICE>" in oncall(slack, "platform")
    slack.click("oncall_request_accept", request, user="U0BOB")
    wait_for(lambda: "Accepted." in _responses(recorder, since), what="accepted")
    assert "primary <@U0BOB> (cover), secondary <@U0ALICE>" in oncall(slack, "platform")
    wait_for(lambda: any(c.params.get("channel") == "U0ALICE" and "accepted your swap" in str(c.params.get("text"))
                         for c in recorder.of("chat.postMessage")), what="the proposer told")  # fmt: skip


def test_a_swap_declined_changes_nothing_and_the_proposer_is_told(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, target: datetime
) -> None:
    move_to(bot, target + timedelta(hours=14))  # 17:00: Alice primary, Bob secondary
    assert "Asked <@U0BOB> to swap" in oncall(slack, "swap <@U0BOB> " + target.date().isoformat(), user="U0ALICE")
    proposal = wait_for(lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "U0BOB"
                                 and "oncall_request_decline" in json.dumps(c.params.get("blocks"))], what="asked")  # fmt: skip
    request = _request_id(proposal[0])  # type: ignore[index]
    since = len(recorder.of("response_url"))
    slack.click("oncall_request_decline", request, user="U0BOB")
    wait_for(lambda: "Declined." in _responses(recorder, since), what="declined")
    wait_for(lambda: _said_to(recorder, "U0ALICE", "<@U0BOB> declined your swap request."), what="the proposer told")
    wait_for(lambda: any("Declined by <@U0BOB>" in str(c.params.get("text")) for c in recorder.of("chat.update")),
             what="the proposal says it was declined")  # fmt: skip
    slack.click("oncall_request_accept", request, user="U0BOB")  # a second thought: the answer stands
    wait_for(lambda: "You declined it already." in _responses(recorder, since), what="the late accept answered")
    assert "primary <@U0ALICE>, secondary <@U0BOB>" in oncall(slack, "platform")


def test_a_cover_asked_of_one_person_until_a_time_is_theirs_alone_and_ends_then(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, target: datetime
) -> None:
    move_to(bot, target + timedelta(hours=14))  # Wednesday 17:00 UTC: Alice is platform's primary
    asked = oncall(slack, "cover <@U0CAROL> until 19:00", user="U0ALICE")
    assert "Asked <@U0CAROL> to cover you" in asked and "19:00" in asked, asked
    request = _request_id(wait_for(lambda: _request(recorder, "U0CAROL"), what="Carol asked by DM"))  # type: ignore[arg-type]
    assert not [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0PLATFORM"]  # not the team
    since = len(recorder.of("response_url"))
    slack.click("oncall_cover_take", request, user="U0BOB")  # of the team, but not the person asked
    wait_for(lambda: any("This request asks <@U0CAROL> only" in t for t in _responses(recorder, since)), what="refused")
    assert "primary <@U0ALICE>" in oncall(slack, "platform")
    slack.click("oncall_cover_take", request, user="U0CAROL")
    wait_for(lambda: any(t.startswith("You cover <@U0ALICE>") for t in _responses(recorder, since)), what="taken")
    assert "primary <@U0CAROL> (cover)" in oncall(slack, "platform")
    move_to(bot, target + timedelta(hours=15, minutes=59))  # 18:59
    assert "primary <@U0CAROL> (cover)" in oncall(slack, "platform")
    move_to(bot, target + timedelta(hours=16, seconds=1))  # 19:00: the cover is over
    assert "primary <@U0ALICE>" in oncall(slack, "platform")


def test_only_the_commander_or_an_operator_hands_an_incident_over(bot: Bot, slack: SignedSlack) -> None:
    text = ack_text(slack.command("open P2 Kafka consumer lag", user="U0REPORTER"))
    number = int(text.split("*INC-")[1].split("*")[0])
    assigned = ack_text(slack.command(f"assign INC-{number} <@U0ALICE>", user="U0OPS"))
    assert "<@U0ALICE>" in assigned, assigned
    refused = ack_text(slack.command(f"team INC-{number} data", user="U0ZED"))
    assert f"Only the commander (<@U0ALICE>) or an operator may hand over INC-{number}" in refused
    assert "→ team data" not in ack_text(slack.command(f"timeline INC-{number}"))  # the refusal changed nothing
    assert f"INC-{number} is team *data*'s now" in ack_text(slack.command(f"team INC-{number} data", user="U0OPS"))


def test_each_teams_hand_off_checklist_goes_out_at_its_own_time_in_its_channel(
    bot: Bot, recorder: SlackRecorder, target: datetime
) -> None:
    def checklists(channel: str) -> list[Call]:
        return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == channel
                and str(c.params.get("text")).startswith("On-call hand-off checklist")]  # fmt: skip

    monday = target + timedelta(days=5, hours=6)  # Monday 09:00 UTC: platform's hand-off
    move_to(bot, monday + timedelta(seconds=5))
    posted = wait_for(lambda: checklists("C0PLATFORM"), what="platform's checklist")
    assert posted[0].params.get("text") == "On-call hand-off checklist: platform"  # type: ignore[index]
    tuesday = monday + timedelta(days=1, hours=1)
    move_to(bot, tuesday + timedelta(seconds=5))  # Tuesday 10:00: data's hand-off
    (data,) = wait_for(lambda: checklists("C0DATA"), what="data's checklist")  # type: ignore[misc]
    # Made on Tuesday, not with platform's on Monday: the shift it shows ends after Tuesday 10:00 (one shown on Monday
    # would end by then, at the latest).
    ends = re.search(r"until <!date\^(\d+)\^", json.dumps(blocks_of(data)))
    assert ends is not None and int(ends.group(1)) > tuesday.timestamp(), blocks_of(data)
    assert len(checklists("C0PLATFORM")) == 1 and len(checklists("C0DATA")) == 1


def test_the_app_home_shows_the_viewers_own_teams_first(slack: SignedSlack, recorder: SlackRecorder) -> None:
    def order(user: str) -> list[str]:
        since = len(recorder.of("views.publish"))
        opened(slack, user)
        view = view_of(wait_for(lambda: publishes(recorder, user, since), what=f"{user}'s App Home")[0])  # type: ignore[index]
        return [e["value"] for b in view["blocks"] for e in [b.get("accessory") or {}]
                if e.get("action_id") == "home_take_over"]  # fmt: skip

    assert order("U0FAY") == ["team:data", "team:platform"]  # Fay is of data
    assert order("U0ALICE") == ["team:platform", "team:data"]


def test_a_member_of_the_teams_user_group_may_take_its_cover(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, target: datetime
) -> None:
    recorder.usergroups["S0PLATFORM"] = ["U0GRP"]  # in platform's Slack user group, in none of its rotations
    try:
        move_to(bot, target + timedelta(hours=14))  # 17:00: Alice is platform's primary
        assert "Asked team platform" in oncall(slack, "cover 2h", user="U0ALICE")
        request = _request_id(wait_for(lambda: _request(recorder, "C0PLATFORM"), what="the request posted"))  # type: ignore[arg-type]
        since = len(recorder.of("response_url"))
        slack.click("oncall_cover_take", request, user="U0ZED")  # in neither
        wait_for(lambda: any("or user group <!subteam^S0PLATFORM>" in t for t in _responses(recorder, since)),
                 what="refused, the group named")  # fmt: skip
        slack.click("oncall_cover_take", request, user="U0GRP")
        wait_for(lambda: any(t.startswith("You cover <@U0ALICE>") for t in _responses(recorder, since)), what="taken")
        assert "primary <@U0GRP> (cover)" in oncall(slack, "platform")
    finally:
        recorder.usergroups.pop("S0PLATFORM", None)
