"""The incident's Jira ticket kept in step over the wire, when Jira is slow, down, or loses its answers: the poller
never waits on it, a move delayed past the next change still walks every stage, a transition that landed unanswered is
taken as done, a trouble is said again in a later outage, and only the configured project's tickets are linked."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_tickets import BOB, CONFIG, announced, issue_of, open_incident, start_bot, thread_lines
from tests.support import jira as jira_support
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.jira import JiraStandIn
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder
from tests.support.standin import Fault

DOWN = "'s ticket is made (or moved) when Jira answers again"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def recorder() -> Iterator[SlackRecorder]:
    rec = SlackRecorder().start()
    yield rec
    rec.stop()


@pytest.fixture(scope="module")
def jira() -> Iterator[JiraStandIn]:
    server = JiraStandIn()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def jira_up(jira: JiraStandIn) -> Iterator[None]:
    yield
    jira.down = False
    jira.faults.clear()


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tickets-sync")


@pytest.fixture(scope="module")
def bot(directory: Path, recorder: SlackRecorder, redis_server: RedisServer, jira: JiraStandIn) -> Iterator[Bot]:
    proc = start_bot(directory, recorder, redis_server.url, jira.url, "sync-a")
    yield proc
    proc.terminate()


@pytest.fixture
def slack(bot: Bot, recorder: SlackRecorder) -> Iterator[SignedSlack]:
    client = SignedSlack(bot.base_url, recorder.response_url)
    yield client
    client.close()


def test_the_poller_ticks_on_while_jira_hangs(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn, redis_server: RedisServer,
    directory: Path,
) -> None:  # fmt: skip
    number = open_incident(slack, "P3", "Workers stuck")
    announced(recorder, number, "Workers stuck")
    bot.settled()
    jira.down = True
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    wait_for(lambda: thread_lines(recorder, f"INC-{number}{DOWN}"), what="the tracker down, said")
    bot.terminate()  # its retries end with it: the next replica's poller finds the incident without its ticket
    jira.down = False
    jira.fail(*[Fault(0, delay=8.0)] * 40)  # every call answered after 8 s, past the 5 s timeout
    slow = directory / "slow.yaml"
    slow.write_text(textwrap.dedent(CONFIG % {"jira": jira.url}).replace("timeout: 2s", "timeout: 5s"))
    other = Bot(redis_url=redis_server.url, slack_api_url=recorder.api_url, config_path=slow,
                log_path=directory / "sync-b.log", extra_env={"JIRA_API_TOKEN": jira_support.TOKEN},
                name="sync-b").start()  # fmt: skip
    try:
        other.ticked(timeout=2.5)  # its first tick (the tickets pass among its jobs) ended without Jira's answer
        wait_for(lambda: jira.of("GET", "/search/jql"), what="the ticket looked up, in the background")
        other.ticked(timeout=2.5)  # and the poller keeps ticking while that call hangs
        jira.faults.clear()
        issue_of(jira, number, timeout=30)  # made once Jira answers in time again
    finally:
        other.terminate()
        bot.start()


def test_a_resolve_and_close_while_jira_is_down_reach_done_when_it_returns(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P3", "Stale cache")
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    issue = issue_of(jira, number)
    wait_for(lambda: issue.status == "In Progress", what="the acknowledged transition")
    bot.settled()
    jira.down = True
    ack_text(slack.command(f"resolve INC-{number} fixed", user=BOB))
    assert "closed" in ack_text(slack.command(f"close INC-{number}", user=BOB))
    wait_for(lambda: thread_lines(recorder, f"INC-{number}{DOWN}"), what="the tracker down, said")
    jira.down = False
    wait_for(lambda: issue.status == "Done", timeout=30, what="resolved's transition, though closed came first")
    bot.settled(timeout=30)
    assert issue.transitions == ["In Progress", "Monitoring", "Done"]  # every stage between, once


def test_a_transition_that_landed_unanswered_is_not_said_as_not_updated(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P3", "Slow transitions")
    announced(recorder, number, "Slow transitions")
    bot.settled()
    jira.fail(Fault(0), Fault(0), Fault(0, delay=3.0))  # the create, the transitions offered, then the move: late
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    issue = issue_of(jira, number)
    wait_for(lambda: issue.status == "In Progress", what="the move, carried out")
    wait_for(lambda: len(jira.of("GET", f"/issue/{issue.key}/transitions")) >= 2, what="the move tried again")
    bot.settled(timeout=30)
    assert issue.transitions == ["In Progress"]
    assert not thread_lines(recorder, "was not updated")
    ack_text(slack.command(f"resolve INC-{number} fixed", user=BOB))  # recorded as sent: the next move follows
    wait_for(lambda: issue.status == "Done", what="the resolved transition")


def test_jira_down_again_later_is_said_again(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P3", "Intermittent Jira")
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    issue = issue_of(jira, number)
    wait_for(lambda: issue.status == "In Progress", what="the acknowledged transition")
    bot.settled()
    for n, (verb, status) in enumerate((("mitigate", "Monitoring"), ("resolve", "Done")), 1):
        jira.down = True
        ack_text(slack.command(f"{verb} INC-{number} step {n}", user=BOB))
        wait_for(lambda n=n: len(thread_lines(recorder, f"INC-{number}{DOWN}")) >= n, what=f"outage {n}, said")
        jira.down = False
        wait_for(lambda status=status: issue.status == status, what=f"the {verb} sent once Jira is back")
        bot.settled(timeout=30)
    assert len(thread_lines(recorder, f"INC-{number}{DOWN}")) == 2  # once per outage


def test_only_the_projects_tickets_are_linked_and_a_ticket_is_replaced_only_by_relink(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P1", "Login fails")  # P1: its ticket made at open
    made = issue_of(jira, number)
    announced(recorder, number, made.key)
    bot.settled()
    elsewhere = jira.add("Payroll export", project="HR")
    calls = len(jira.requests)
    said = ack_text(slack.command(f"ticket INC-{number} link {elsewhere.key}", user=BOB))
    assert "Only a Jira ticket of `OPS` can be linked" in said
    bot.settled()
    assert len(jira.requests) == calls and f"chatops-INC-{number}" not in elsewhere.labels

    other = jira.add("Login outage, filed by support")
    ack_text(slack.command(f"ticket INC-{number} link {other.key}", user=BOB))
    wait_for(lambda: thread_lines(recorder, f"relink {other.key}"), what="the existing ticket, kept and said")
    bot.settled()
    assert f"chatops-INC-{number}" not in other.labels
    assert made.key in ack_text(slack.command(f"status INC-{number}", user=BOB))

    ack_text(slack.command(f"ticket INC-{number} relink {other.key}", user=BOB))
    announced(recorder, number, other.key)
    assert f"chatops-INC-{number}" in other.labels
    assert other.key in ack_text(slack.command(f"status INC-{number}", user=BOB))
