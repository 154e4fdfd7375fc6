"""Incident tickets over the wire: signed Slack requests to the running bot, its own Redis, the recording Slack, and a
stand-in of Jira's REST API that answers as Jira does (401, 400 with ``errors``, 404, 429 with Retry-After, 503, a
create answered after the bot gave up)."""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support import jira as jira_support
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.jira import JiraStandIn
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder, blocks_of, text_of_blocks

BOB = "U0BOB"
CONFIG = """
channels: {incidents: C0INCIDENTS, stakeholders: C0STATUS}
oncall: {rotation: [U0ALICE, U0BOB]}
tickets:
  create_on: {P1: opened, P4: never}
  mirror_updates: true
  retry_max: 2s
  jira:
    url: "%(jira)s"
    email: bot@acme.io
    project: OPS
    issue_type: Incident
    priority: {P1: Highest, P2: High, P3: Medium, P4: Low}
    transitions: {acknowledged: Start progress, mitigated: Mitigated, resolved: Done, reopened: Reopen}
    timeout: 2s
"""


# Fixtures -----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def recorder() -> Iterator[SlackRecorder]:
    """This module's own Slack stand-in: INC-n is counted in this module's own Redis."""
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
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("tickets")
    yield where
    secrets = {
        "JIRA_API_TOKEN": jira_support.TOKEN,
        "Basic credentials": base64.b64encode(f"{jira_support.EMAIL}:{jira_support.TOKEN}".encode()).decode(),
    }
    found = [f"{log.name}: {kind}" for log in where.glob("*.log") for kind, value in secrets.items()
             if value in log.read_text(errors="replace")]  # fmt: skip
    assert not found, f"secrets in logs: {found}"


def config_file(directory: Path, jira_url: str, name: str = "chatops.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(CONFIG % {"jira": jira_url}))
    return path


def start_bot(directory: Path, recorder: SlackRecorder, redis_url: str, jira_url: str, name: str) -> Bot:
    return Bot(
        redis_url=redis_url,
        slack_api_url=recorder.api_url,
        config_path=config_file(directory, jira_url),
        log_path=directory / f"{name}.log",
        extra_env={"JIRA_API_TOKEN": jira_support.TOKEN},
        name=name,
    ).start()


@pytest.fixture(scope="module")
def bot(directory: Path, recorder: SlackRecorder, redis_server: RedisServer, jira: JiraStandIn) -> Iterator[Bot]:
    proc = start_bot(directory, recorder, redis_server.url, jira.url, "tickets-a")
    yield proc
    proc.terminate()


@pytest.fixture
def slack(bot: Bot, recorder: SlackRecorder) -> Iterator[SignedSlack]:
    client = SignedSlack(bot.base_url, recorder.response_url)
    yield client
    client.close()


# Helpers ------------------------------------------------------------------------------------------------------------
def open_incident(slack: SignedSlack, severity: str, title: str) -> int:
    text = ack_text(slack.command(f"open {severity} {title}", user=BOB))
    return int(text.split("*INC-")[1].split("*")[0])


def thread_lines(recorder: SlackRecorder, phrase: str) -> list[str]:
    return [str(c.params.get("text")) for c in recorder.of("chat.postMessage")
            if c.params.get("thread_ts") and phrase in str(c.params.get("text"))]  # fmt: skip


def announced(recorder: SlackRecorder, number: int, phrase: str) -> str:
    """The latest announcement of INC-n (posted or edited) once it shows ``phrase``."""

    def find() -> str | None:
        for call in reversed([*recorder.of("chat.postMessage"), *recorder.of("chat.update")]):
            text = text_of_blocks(blocks_of(call))
            if f"INC-{number}:" in text and phrase in text and "thread_ts" not in call.params:
                return text
        return None

    found = wait_for(find, timeout=20, what=f"INC-{number}'s announcement showing {phrase!r}")
    assert isinstance(found, str)
    return found


def issue_of(jira: JiraStandIn, number: int, timeout: float = 20) -> jira_support.Issue:
    found = wait_for(lambda: jira.labelled(f"chatops-INC-{number}"), timeout=timeout, what=f"INC-{number}'s issue")
    assert isinstance(found, list)
    assert len(found) == 1, [i.key for i in found]
    issue: jira_support.Issue = found[0]
    return issue


def adf_text(doc: Any) -> str:
    return json.dumps(doc)


# Tests --------------------------------------------------------------------------------------------------------------
def test_acknowledge_makes_one_issue_with_the_mapped_priority_and_the_lifecycle_moves_it(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P2", "Checkout API returns 500s")
    announced(recorder, number, "Checkout API")
    bot.settled()
    assert jira.labelled(f"chatops-INC-{number}") == []  # P2: made on acknowledgement, not at open

    said = ack_text(slack.command(f"ack INC-{number}", user=BOB))
    assert "acknowledged" in said  # answered at once, whatever the tracker does
    issue = issue_of(jira, number)
    assert issue.priority == "High" and issue.fields["issuetype"] == {"name": "Incident"}
    assert issue.fields["summary"] == f"INC-{number}: Checkout API returns 500s"
    assert {"incident", "severity-P2", f"chatops-INC-{number}"} <= set(issue.labels)
    description = adf_text(issue.fields["description"])
    assert (
        "https://slack.com/archives/C0INCIDENTS/p" in description and "First responder: Slack user U0BOB" in description
    )
    wait_for(lambda: issue.status == "In Progress", what="the acknowledged transition")

    shown = announced(recorder, number, issue.key)
    assert f"{jira.url}/browse/{issue.key}" in json.dumps([blocks_of(c) for c in recorder.of("chat.update")])
    assert issue.key in shown
    assert issue.key in ack_text(slack.command(f"status INC-{number}", user=BOB))
    timeline = ack_text(slack.command(f"timeline INC-{number}", user=BOB))
    assert f"*ticket* — Jira ticket {issue.key} ({jira.url}/browse/{issue.key}) created" in timeline

    ack_text(slack.command(f"severity INC-{number} P1", user=BOB))
    wait_for(lambda: issue.priority == "Highest", what="the priority moved with the severity")
    ack_text(slack.command(f"update INC-{number} Rolled back to 2.4.0; errors falling", user=BOB))
    wait_for(lambda: "Rolled back to 2.4.0" in json.dumps(issue.comments), what="the update mirrored as a comment")
    ack_text(slack.command(f"resolve INC-{number} fixed", user=BOB))
    wait_for(lambda: issue.status == "Done", what="the resolved transition")
    ack_text(slack.command(f"reopen INC-{number} errors again", user=BOB))
    wait_for(lambda: issue.status == "In Progress", what="the reopen transition")
    assert issue.transitions == ["In Progress", "Monitoring", "Done", "In Progress"]  # resolve walks mitigated
    assert len(jira.labelled(f"chatops-INC-{number}")) == 1

    ack_text(slack.command(f"postmortem INC-{number}", user=BOB))
    upload = wait_for(lambda: [c for c in recorder.of("files.upload") + recorder.of("files.completeUploadExternal")
                               if f"inc-{number}" in json.dumps(c.params).lower()] or None, what="the post-mortem")  # fmt: skip
    assert upload


def test_a_p1_is_ticketed_at_open_and_a_p4_never(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    p1 = open_incident(slack, "P1", "Payments down")
    assert issue_of(jira, p1).priority == "Highest"
    p4 = open_incident(slack, "P4", "Typo on the status page")
    ack_text(slack.command(f"ack INC-{p4}", user=BOB))
    bot.settled()
    assert jira.labelled(f"chatops-INC-{p4}") == []
    said = ack_text(slack.command(f"ticket INC-{p4}", user=BOB))  # on demand it is made all the same
    assert "Making" in said
    assert issue_of(jira, p4).priority == "Low"


def test_two_replicas_and_a_create_answered_too_late_make_one_issue(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn, redis_server: RedisServer,
    directory: Path,
) -> None:  # fmt: skip
    number = open_incident(slack, "P2", "Search is slow")
    announced(recorder, number, "Search is slow")
    other = start_bot(directory, recorder, redis_server.url, jira.url, "tickets-b")
    try:
        other_slack = SignedSlack(other.base_url, recorder.response_url)
        jira.slow_next(3.0)  # made at once, answered after the bots' 2 s timeout
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(
                lambda args: ack_text(args[0].command(args[1], user=BOB)),
                [(slack, f"ack INC-{number}"), (other_slack, f"ticket INC-{number}"), (slack, f"ticket INC-{number}")],
            ))  # fmt: skip
        assert all(answers)
        issue = issue_of(jira, number, timeout=30)
        announced(recorder, number, issue.key)
        bot.settled(timeout=30)
        other.settled(timeout=30)
        assert len(jira.labelled(f"chatops-INC-{number}")) == 1
        searches = [r for r, _ in jira.of("GET", "/search/jql") if f"chatops-INC-{number}" in r.param("jql")]
        assert searches, "the create that timed out was looked up before it was tried again"
        creates = [r for r, _ in jira.of("POST", "/rest/api/3/issue") if f"INC-{number}:" in r.body.decode()]
        assert len(creates) == 1
        other_slack.close()
    finally:
        other.terminate()


def test_jira_down_the_incident_flows_on_said_once_and_the_ticket_appears_when_it_returns(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P3", "Disk filling on db-2")
    announced(recorder, number, "Disk filling")
    jira.down = True
    assert "acknowledged" in ack_text(slack.command(f"ack INC-{number}", user=BOB))
    announced(recorder, number, "Acknowledged")
    said = wait_for(lambda: thread_lines(recorder, f"INC-{number}'s ticket is made"), what="the tracker down, said")
    assert "Jira answered 503" in said[0]  # type: ignore[index]
    assert "mitigated" in ack_text(slack.command(f"mitigate INC-{number} cleaned up", user=BOB))
    announced(recorder, number, "Mitigated")
    assert jira.labelled(f"chatops-INC-{number}") == []
    jira.down = False
    issue = issue_of(jira, number)
    wait_for(lambda: thread_lines(recorder, f"Jira answers again: INC-{number}'s ticket is"), what="back, said")
    announced(recorder, number, issue.key)
    wait_for(lambda: issue.status == "Monitoring", what="the ticket moved to where the incident is")
    assert len(thread_lines(recorder, f"INC-{number}'s ticket is made")) == 1
    assert issue.priority == "Medium"


def test_an_incident_left_without_its_ticket_by_a_restart_gets_it_from_the_next_replica(
    recorder: SlackRecorder, jira: JiraStandIn, redis_server: RedisServer, directory: Path
) -> None:
    first = start_bot(directory, recorder, redis_server.url, jira.url, "tickets-c")
    slack = SignedSlack(first.base_url, recorder.response_url)
    number = open_incident(slack, "P3", "Replica lag")
    announced(recorder, number, "Replica lag")
    jira.down = True
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    wait_for(lambda: thread_lines(recorder, f"INC-{number}'s ticket is made"), what="the tracker down, said")
    slack.close()
    first.terminate()  # its retries end with it
    jira.down = False
    assert jira.labelled(f"chatops-INC-{number}") == []
    second = start_bot(directory, recorder, redis_server.url, jira.url, "tickets-d")
    try:
        issue = issue_of(jira, number)  # the poller's look for incidents without their ticket
        announced(recorder, number, issue.key)
        second.settled()
        assert len(jira.labelled(f"chatops-INC-{number}")) == 1
    finally:
        second.terminate()


def test_a_resolve_lost_with_a_restart_moves_the_ticket_on_the_next_pass_once(
    recorder: SlackRecorder, jira: JiraStandIn, redis_server: RedisServer, directory: Path
) -> None:
    first = start_bot(directory, recorder, redis_server.url, jira.url, "tickets-e")
    slack = SignedSlack(first.base_url, recorder.response_url)
    number = open_incident(slack, "P3", "Stale reads")
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    issue = issue_of(jira, number)
    wait_for(lambda: issue.status == "In Progress", what="the acknowledged transition")
    jira.down = True
    ack_text(slack.command(f"resolve INC-{number} fixed", user=BOB))
    wait_for(lambda: [r for r, s in jira.of("GET", f"/issue/{issue.key}/transitions") if s == 503] or None,
             what="the resolve tried while Jira is down")  # fmt: skip
    slack.close()
    first.terminate()  # its retries end with it
    jira.down = False
    assert issue.status == "In Progress"
    replicas = [start_bot(directory, recorder, redis_server.url, jira.url, name) for name in ("tickets-f", "tickets-g")]
    try:
        wait_for(lambda: issue.status == "Done", what="the next pass moving the ticket")  # the poller's
        for replica in replicas:
            replica.settled()
        assert issue.transitions == ["In Progress", "Monitoring", "Done"]  # sent once, by one replica
        moves = [r for r, s in jira.of("POST", f"/issue/{issue.key}/transitions") if s == 204]
        assert len(moves) == 3
    finally:
        for replica in replicas:
            replica.terminate()


def test_429_and_500_are_retried_and_a_refusal_is_said_naming_the_token(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P3", "Queue backlog")
    announced(recorder, number, "Queue backlog")
    bot.settled()
    jira.fail_next(429, headers={"Retry-After": "1"})
    jira.fail_next(500)
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    issue_of(jira, number)

    refused = open_incident(slack, "P3", "Cache misses")
    announced(recorder, refused, "Cache misses")
    bot.settled()  # nothing else in flight takes the fault
    jira.fail_next(401)
    ack_text(slack.command(f"ack INC-{refused}", user=BOB))
    line = wait_for(lambda: thread_lines(recorder, f"No ticket for INC-{refused}"), what="the refusal, said")
    assert "401" in line[0] and "JIRA_API_TOKEN" in line[0]  # type: ignore[index]
    bot.settled()
    assert jira.labelled(f"chatops-INC-{refused}") == []


def test_link_an_existing_issue_and_bad_keys_change_nothing(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P4", "Flaky deploys")
    announced(recorder, number, "Flaky deploys")
    calls = len(jira.requests)
    for bad in ("ops-12", "OPS-0", "OPS-12;DROP", "OPS-1`", "../OPS-1", "x" * 300):
        said = ack_text(slack.command(f"ticket INC-{number} link {bad}", user=BOB))
        assert "not a Jira key" in said and "OPS-1234" in said, said
    assert "not an incident id" in ack_text(slack.command("ticket INC-x link OPS-1", user=BOB))
    assert "Write `/incident ticket INC-n`" in ack_text(slack.command(f"ticket INC-{number} OPS-1 now", user=BOB))
    bot.settled()
    assert len(jira.requests) == calls  # nothing reached Jira

    said = ack_text(slack.command(f"ticket INC-{number} link OPS-999", user=BOB))
    assert "Linking OPS-999" in said
    wait_for(lambda: thread_lines(recorder, "Jira has no ticket OPS-999"), what="no such issue, said")

    existing = jira.add("Deploys flake on the canary")
    ack_text(slack.command(f"ticket INC-{number} link {existing.key}", user=BOB))
    announced(recorder, number, existing.key)
    assert f"chatops-INC-{number}" in existing.labels
    assert f"{existing.key} already" in ack_text(slack.command(f"ticket INC-{number} link {existing.key}", user=BOB))
    assert existing.key in ack_text(slack.command(f"ticket INC-{number}", user=BOB))
