"""Teams at their edges (over the real wire, a real Redis, the Slack stand-in, the movable clock): an incident whose
team left the config is still paged (the default team's); a hand-over racing a page in flight, or whose replica died
before it restarted the chain; a cover taken by
someone on call already, taken again by its taker, or whose write was lost; a take-over with nobody to ask; a cover
asked of someone outside the team; a swap's day out of reach."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from bot.core import keys
from bot.oncall.rotation import Handoff, anchor_for
from tests.integration.test_team_shifts import Replicas
from tests.integration.test_teams import (
    CONFIG,
    _home_take,
    _request,
    _request_id,
    _responses,
    _said_to,
    move_to,
    oncall,
    wednesday_3am,
)
from tests.support.bot_process import ack_text, run_cli
from tests.support.escalation import dms
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder

# data renamed dataeng (its route with it); a night team of one layer and no lead: nobody on call by day.
RENAMED = (
    CONFIG.replace("  data:\n", "  dataeng:\n").replace("team: data}", "team: dataeng}")
    + "  night:\n    schedules: [{name: late, layers: [{rotation: [U0NIA], hours: '22:00-06:00'}]}]\n"
    + "  owls:\n    schedules: [{name: late, layers: [{rotation: [U0OWL], hours: '22:00-06:00'}]}]\n"
    + "    lead: U0OWLLEAD\n"
)


@pytest.fixture
def target() -> datetime:
    return wednesday_3am()


@pytest.fixture
def replicas(tmp_path: Path, recorder: SlackRecorder, target: datetime) -> Iterator[Replicas]:
    recorder.reset()
    made = Replicas(tmp_path, recorder, target)
    yield made
    made.stop()
    recorder.reset()
    made.server.cleanup()


def _opened(text: str) -> int:
    return int(text.split("*INC-")[1].split("*", maxsplit=1)[0])


def test_an_incident_of_a_team_gone_from_the_config_is_paged_as_the_default_teams(
    replicas: Replicas, recorder: SlackRecorder, target: datetime
) -> None:
    bot, slack = replicas.start(CONFIG, target + timedelta(hours=14))  # Wednesday 17:00: Hal is data's primary
    number = _opened(ack_text(slack.command("open P1 Lag on the brokers --team=data", user="U0REPORTER")))
    wait_for(lambda: dms(recorder, number, "U0HAL", [bot]), what="data's primary paged at open")
    other = _opened(ack_text(slack.command("open P1 Replica lag --team=data", user="U0REPORTER")))
    wait_for(lambda: dms(recorder, other, "U0HAL", [bot]), what="the second incident paged")
    assert "Asked team data" in oncall(slack, "cover 2h", user="U0HAL")
    request = _request_id(wait_for(lambda: _request(recorder, "C0DATA"), what="data's cover request"))  # type: ignore[arg-type]
    # data is renamed: the stored team names no team now. The next steps page platform's people, for both.
    bot, slack = replicas.start(RENAMED, target + timedelta(hours=14, minutes=1))
    move_to(bot, target + timedelta(hours=15))  # well past a P1's response deadline: step 2 is due
    for n in (number, other):
        wait_for(lambda n=n: dms(recorder, n, "U0BOB", [bot]), what=f"INC-{n}'s step 2 at platform's secondary")
    assert "no longer in the config" in bot.log_path.read_text()
    assert f"INC-{number}" in ack_text(slack.command(f"status INC-{number}"))
    assert "*dataeng* — primary" in oncall(slack)  # /oncall with the renamed team works
    oncall(slack, "handoff platform")  # the default team's checklist lists them among its open incidents
    checklist = wait_for(lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0PLATFORM"
                                  and "hand-off" in str(c.params.get("text"))], what="platform's checklist")  # fmt: skip
    assert f"INC-{number}" in json.dumps(checklist[0].params.get("blocks"))  # type: ignore[index]
    since = len(recorder.of("response_url"))
    slack.click("oncall_cover_take", request, user="U0GUS")  # asked of team data, which is no more
    wait_for(lambda: any("Team data is no longer in the config" in t for t in _responses(recorder, since)),
             what="the old request refused plainly")  # fmt: skip


def test_a_hand_over_while_a_page_is_out_starts_the_new_teams_chain(
    replicas: Replicas, recorder: SlackRecorder, target: datetime
) -> None:
    bot, slack = replicas.start(CONFIG, target)  # Wednesday 03:00: Dan platform's primary, Fay data's
    gate = recorder.hold("chat.postMessage", channel="D0DAN")
    number = _opened(ack_text(slack.command("open P1 Disk full", user="U0REPORTER")))
    wait_for(lambda: any(c.params.get("channel") == "D0DAN" for c in recorder.of("chat.postMessage")),
             what="platform's page on its way")  # fmt: skip
    assert "is team *data*'s now" in ack_text(slack.command(f"team INC-{number} data", user="U0REPORTER"))
    gate.set()  # the old team's page lands after the hand-over
    wait_for(lambda: dms(recorder, number, "U0FAY", [bot]), what="data's primary paged at once")
    bot.ticked()
    assert len(dms(recorder, number, "U0FAY", [bot])) == 1
    assert len(dms(recorder, number, "U0DAN", [bot])) == 1
    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert "team platform → team data" in timeline and "<@U0FAY>" in timeline
    assert "as it was handed over to another team" in timeline  # Dan's page, on the record outside data's chain


def test_a_hand_over_whose_replica_died_before_restarting_the_chain_is_restarted_by_the_next_page(
    replicas: Replicas, recorder: SlackRecorder, target: datetime
) -> None:
    bot, slack = replicas.start(CONFIG, target)  # Wednesday 03:00: Dan platform's primary, Fay data's
    number = _opened(ack_text(slack.command("open P1 Disk full", user="U0REPORTER")))
    wait_for(lambda: dms(recorder, number, "U0DAN", [bot]), what="platform's primary paged at open")
    store = redis.Redis.from_url(replicas.server.url, decode_responses=True)
    try:  # handed over (mitigated then, its deadline kept): the document was kept, and its replica died before it
        # restarted the chain
        doc = json.loads(store.hget(keys.doc(number), "doc"))  # type: ignore[arg-type]
        doc.update(team="data", handovers=1, version=doc["version"] + 1)
        store.hset(keys.doc(number), mapping={"doc": json.dumps(doc), "version": str(doc["version"])})
    finally:
        store.close()
    move_to(bot, target + timedelta(minutes=20))  # past the response deadline: the chain's next page is due
    wait_for(lambda: dms(recorder, number, "U0FAY", [bot]), what="data's primary paged, from step 1")
    bot.ticked()
    paged = {str(c.params["channel"]) for c in dms(recorder, number, bots=[bot])}
    # No step 2 of the old chain, and Fay has a P1's 15 minutes from the restart though the deadline passed long ago
    assert paged == {"D0DAN", "D0FAY"}
    assert len(dms(recorder, number, "U0FAY", [bot])) == 1
    move_to(bot, target + timedelta(minutes=34))
    bot.ticked()
    assert not dms(recorder, number, "U0GUS", [bot])
    move_to(bot, target + timedelta(minutes=36))
    wait_for(lambda: dms(recorder, number, "U0GUS", [bot]), what="data's secondary, 15 minutes after the restart")


def test_a_cover_that_changes_nobody_is_refused_and_a_retry_finishes_a_lost_write(
    replicas: Replicas, recorder: SlackRecorder, target: datetime
) -> None:
    bot, slack = replicas.start(CONFIG, target + timedelta(hours=14))  # 17:00: Alice primary, Bob secondary
    assert "Asked team platform" in oncall(slack, "cover 2h", user="U0BOB")  # Bob's shift as secondary
    request = _request_id(wait_for(lambda: _request(recorder, "C0PLATFORM"), what="the request"))  # type: ignore[arg-type]
    since = len(recorder.of("response_url"))
    slack.click("oncall_cover_take", request, user="U0ALICE")  # primary already: taking it changes nobody
    wait_for(lambda: any("changes nobody on call" in t for t in _responses(recorder, since)), what="refused")
    slack.click("oncall_cover_take", request, user="U0CAROL")  # the request is still open to the others
    wait_for(lambda: any(t.startswith("You cover <@U0BOB>") for t in _responses(recorder, since)), what="taken")
    assert "primary <@U0ALICE>, secondary <@U0CAROL>" in oncall(slack, "platform")

    def told() -> list[object]:
        return [c for c in recorder.of("chat.postMessage")
                if c.params.get("channel") == "U0BOB" and "covers you" in str(c.params.get("text"))]  # fmt: skip

    wait_for(told, what="Bob told")
    slack.click("oncall_cover_take", request, user="U0CAROL")  # a double click: nothing twice
    wait_for(lambda: any(t.startswith("You took it already: you cover") for t in _responses(recorder, since)),
             what="the second click answered")  # fmt: skip
    bot.ticked()
    assert len(told()) == 1
    store = redis.Redis.from_url(replicas.server.url)
    try:
        assert store.hlen(keys.oncall_covers("platform")) == 1
        store.delete(keys.oncall_covers("platform"))  # the write after the claim was lost
    finally:
        store.close()
    # The roster re-reads covers at most once a second (a monotonic clock): the lost cover is gone within one.
    wait_for(lambda: "secondary <@U0BOB>" in oncall(slack, "platform"), what="the lost cover gone")
    slack.click("oncall_cover_take", request, user="U0CAROL")  # the taker's retry keeps it after all
    wait_for(lambda: "secondary <@U0CAROL>" in oncall(slack, "platform"), what="the cover kept on retry")
    bot.ticked()
    assert len(told()) == 1  # Bob was told when it was first kept
    since = len(recorder.of("response_url"))
    slack.click("oncall_cover_take", request, user="U0DAN")
    wait_for(lambda: "Already taken by <@U0CAROL>." in _responses(recorder, since), what="Dan told who took it")


def test_nobody_to_ask_for_a_take_over_and_people_outside_the_team_are_refused(
    replicas: Replicas, recorder: SlackRecorder, target: datetime
) -> None:
    _, slack = replicas.start(RENAMED, target + timedelta(hours=14))  # 17:00: team night has nobody on call
    _home_take(slack, recorder, "U0ZED", "night")
    wait_for(lambda: _said_to(recorder, "U0ZED", "Nobody is on call in team night to ask"), what="refused")
    assert "nobody scheduled" in oncall(slack, "night")  # nothing was taken
    _home_take(slack, recorder, "U0ZED", "owls")  # owls' lead takes their unscheduled hours: the lead is asked
    wait_for(lambda: _said_to(recorder, "U0ZED", "Asked <@U0OWLLEAD> (lead of owls) to let you take over"),
             what="the lead asked")  # fmt: skip
    assert "is not in team platform" in oncall(slack, "cover <@U0FAY> 2h", user="U0ALICE")
    assert not [c for c in recorder.of("chat.postMessage") if c.params.get("channel") in ("U0FAY", "C0PLATFORM")
                and "oncall_cover_take" in json.dumps(c.params.get("blocks"))]  # fmt: skip
    assert "within the next 90 days" in oncall(slack, "swap <@U0BOB> 9999-12-31", user="U0ALICE")
    assert "within the next 90 days" in oncall(slack, "swap <@U0BOB> 2001-01-01", user="U0ALICE")


def test_check_config_compares_rotations_from_the_weeks_the_bot_fixed_in_redis(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent("""
        channels: {incidents: C0INCIDENTS}
        teams:
          web: {schedules: [{rotation: [U0SAM, U0TOM]}]}
          api: {schedules: [{rotation: [U0TOM, U0SAM]}]}
        """))  # fmt: skip
    env = {"CHATOPS_CONFIG": str(path), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assumed = run_cli("check-config", "--file-only", env=env, cwd=tmp_path)
    assert assumed.returncode == 0 and "warning" not in assumed.stdout  # both from this week: never the same person
    server = RedisServer().start()
    try:
        week0 = anchor_for(datetime.now(UTC), Handoff.parse("mon 09:00"), ZoneInfo("UTC"))
        store = redis.Redis.from_url(server.url)
        store.set(keys.oncall_anchor("api"), (week0 - timedelta(days=7)).isoformat())  # api started a week earlier
        store.close()
        fixed = run_cli("check-config", env={**env, "REDIS_URL": server.url}, cwd=tmp_path)
        assert fixed.returncode == 0, fixed.stderr
        assert "warning: U0SAM is primary in both web and api at" in fixed.stdout
        assert "warning: U0TOM is primary in both web and api at" in fixed.stdout
    finally:
        server.cleanup()
    gone = run_cli("check-config", env={**env, "REDIS_URL": server.url}, cwd=tmp_path)  # Redis is down now
    assert gone.returncode == 0 and "weeks in Redis could not be read: Redis did not answer" in gone.stdout


def test_a_take_over_whose_record_failed_is_announced_by_its_retry_once(
    replicas: Replicas, recorder: SlackRecorder, target: datetime
) -> None:
    bot, slack = replicas.start(CONFIG, target)  # Wednesday 03:00: Dan is platform's primary
    store = redis.Redis.from_url(replicas.server.url, decode_responses=True)

    def announced() -> list[object]:
        return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "C0PLATFORM"
                and "took over on call of team platform" in str(c.params.get("text"))]  # fmt: skip

    try:
        store.execute_command("ACL", "SETUSER", "default", "-xadd")  # the on-call timeline refuses its record
        _home_take(slack, recorder, "U0OPS", "platform")
        wait_for(lambda: _said_to(recorder, "U0OPS", "state store"), what="the operator told the store failed")
        store.execute_command("ACL", "SETUSER", "default", "+xadd")
        assert "*platform* — primary <@U0OPS> (cover)" in oncall(slack, "platform")  # the cover itself was kept
        bot.ticked()
        assert not announced() and store.xlen(keys.ONCALL_TIMELINE) == 0
        _home_take(slack, recorder, "U0OPS", "platform")  # the retry, within the minute: the same take-over
        wait_for(lambda: _said_to(recorder, "U0OPS", "You took over already"), what="the retry answered")
        wait_for(announced, what="the take-over announced in the team's channel")
        _home_take(slack, recorder, "U0OPS", "platform")  # once more: nothing twice
        bot.ticked()
        wait_for(lambda: len([c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "U0OPS"
                              and "You took over already" in str(c.params.get("text"))]) == 2, what="answered")  # fmt: skip
        assert len(announced()) == 1
        entries = [e for _, e in store.xrange(keys.ONCALL_TIMELINE) if e["kind"] == "take over"]
        assert len(entries) == 1 and entries[0]["actor"] == "U0OPS"
    finally:
        store.execute_command("ACL", "SETUSER", "default", "+xadd")
        store.close()
