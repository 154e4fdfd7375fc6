"""GitHub Issues and Linear as the incident's tracker, over the wire: signed Slack requests to a running bot, its own
Redis, the recording Slack, and stand-ins of GitHub's REST API and Linear's GraphQL API answering as they do."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_tickets import BOB, announced, open_incident, thread_lines
from tests.support import github_issues, linear
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.github_issues import GithubIssuesStandIn
from tests.support.harness import Bot
from tests.support.linear import LinearStandIn
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder
from tests.support.standin import Fault

BASE = """
channels: {incidents: C0INCIDENTS}
oncall: {rotation: [U0ALICE, U0BOB]}
tickets:
  retry_max: 2s
  mirror_updates: true
"""


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
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("trackers")
    yield where
    secrets = {"GITHUB_TOKEN": github_issues.TOKEN, "LINEAR_API_KEY": linear.KEY}
    found = [f"{log.name}: {kind}" for log in where.glob("*.log") for kind, value in secrets.items()
             if value in log.read_text(errors="replace")]  # fmt: skip
    assert not found, f"secrets in logs: {found}"


def start(
    directory: Path, recorder: SlackRecorder, redis_url: str, name: str, section: str, env: dict[str, str]
) -> Bot:
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(BASE) + textwrap.indent(textwrap.dedent(section), "  "))
    return Bot(redis_url=redis_url, slack_api_url=recorder.api_url, config_path=path,
               log_path=directory / f"{name}.log", extra_env=env, name=name).start()  # fmt: skip


@pytest.fixture(scope="module")
def github() -> Iterator[GithubIssuesStandIn]:
    server = GithubIssuesStandIn()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def linear_api() -> Iterator[LinearStandIn]:
    server = LinearStandIn()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def github_bot(
    directory: Path, recorder: SlackRecorder, redis_server: RedisServer, github: GithubIssuesStandIn
) -> Iterator[Bot]:
    section = f'github: {{repo: acme/ops, api_url: "{github.url}", labels: [incident], timeout: 2s}}\n'
    bot = start(directory, recorder, redis_server.url, "gh", section, {"GITHUB_TOKEN": github_issues.TOKEN})
    yield bot
    bot.terminate()


@pytest.fixture(scope="module")
def linear_bot(
    directory: Path, recorder: SlackRecorder, redis_server: RedisServer, linear_api: LinearStandIn
) -> Iterator[Bot]:
    section = f'linear: {{team: OPS, api_url: "{linear_api.url}/graphql", timeout: 2s}}\n'
    bot = start(directory, recorder, redis_server.url, "lin", section, {"LINEAR_API_KEY": linear.KEY})
    yield bot
    bot.terminate()


def signed(bot: Bot, recorder: SlackRecorder) -> SignedSlack:
    return SignedSlack(bot.base_url, recorder.response_url)


def labels(issue: dict[str, Any]) -> set[str]:
    return {str(lb["name"]) for lb in issue["labels"]}


def test_github_issue_made_once_across_a_lost_answer_closed_on_resolve_and_open_again_on_reopen(
    github_bot: Bot, recorder: SlackRecorder, github: GithubIssuesStandIn
) -> None:
    slack = signed(github_bot, recorder)
    number = open_incident(slack, "P2", "Checkout latency")
    announced(recorder, number, "Checkout latency")
    github.add_pull_request()  # the repository's list holds pull requests too
    github.slow_next(3.0)  # made at once, answered after the bot's 2 s
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    found = wait_for(lambda: github.marked(f"INC-{number}"), timeout=30, what="the GitHub issue")
    assert isinstance(found, list)
    issue = found[0]
    key = f"acme/ops#{issue['number']}"
    announced(recorder, number, key)
    github_bot.settled(timeout=30)
    assert len(github.marked(f"INC-{number}")) == 1  # the lost answer was looked up in the list, not made again
    assert any(r.method == "GET" and r.path == "/repos/acme/ops/issues" for r, _ in github.requests)
    assert issue["title"] == f"INC-{number}: Checkout latency"
    wait_for(lambda: {"incident", "severity-P2", "status:acknowledged"} <= labels(issue), what="the labels")

    ack_text(slack.command(f"update INC-{number} Cache warmed up", user=BOB))
    wait_for(lambda: any("Cache warmed up" in c for c in github.comments.get(("acme/ops", issue["number"]), [])),
             what="the update as a comment")  # fmt: skip
    github_bot.settled()
    github.rate_limited()  # 403 with X-RateLimit-Remaining: 0 is waited out, not a refusal
    ack_text(slack.command(f"resolve INC-{number} fixed", user=BOB))
    wait_for(lambda: issue["state"] == "closed" and "status:resolved" in labels(issue), what="closed on resolve")
    assert issue["state_reason"] == "completed"
    ack_text(slack.command(f"reopen INC-{number} again", user=BOB))
    wait_for(lambda: issue["state"] == "open" and "status:reopened" in labels(issue), what="open again on reopen")
    assert thread_lines(recorder, "No ticket for") == []
    slack.close()


def test_github_keys_are_checked_before_any_call_and_a_401_names_the_token(
    github_bot: Bot, recorder: SlackRecorder, github: GithubIssuesStandIn
) -> None:
    slack = signed(github_bot, recorder)
    number = open_incident(slack, "P3", "Stale cache")
    announced(recorder, number, "Stale cache")
    calls = len(github.requests)
    for bad in ("OPS-12", "acme/ops#0", "acme/ops#x", "-acme/ops#1", "acme/../ops#1"):
        said = ack_text(slack.command(f"ticket INC-{number} link {bad}", user=BOB))
        assert "not a GitHub key" in said and "org/repo#56" in said, (bad, said)
    assert len(github.requests) == calls
    github_bot.settled()
    github.fail(Fault(401, body={"message": "Bad credentials"}))
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    line = wait_for(lambda: thread_lines(recorder, f"No ticket for INC-{number}"), what="the refusal")
    assert "401" in line[0] and "GITHUB_TOKEN" in line[0]  # type: ignore[index]
    slack.close()


def test_linear_issue_made_once_with_its_priority_and_moved_through_workflow_states(
    linear_bot: Bot, recorder: SlackRecorder, linear_api: LinearStandIn
) -> None:
    slack = signed(linear_bot, recorder)
    number = open_incident(slack, "P1", "Login failures")
    announced(recorder, number, "Login failures")
    linear_api.slow_next(3.0)
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    found = wait_for(lambda: linear_api.marked(f"INC-{number}"), timeout=30, what="the Linear issue")
    assert isinstance(found, list)
    issue = found[0]
    announced(recorder, number, issue["identifier"])
    linear_bot.settled(timeout=30)
    assert len(linear_api.marked(f"INC-{number}")) == 1
    assert issue["priority"] == 1 and issue["title"] == f"INC-{number}: Login failures"
    wait_for(lambda: linear_api.state_of(issue) == "In Progress", what="acknowledged: In Progress")

    linear_bot.settled()
    linear_api.rate_limited()
    ack_text(slack.command(f"severity INC-{number} P2", user=BOB))
    wait_for(lambda: issue["priority"] == 2, what="the priority moved with the severity")
    ack_text(slack.command(f"resolve INC-{number} fixed", user=BOB))
    wait_for(lambda: linear_api.state_of(issue) == "Done", what="resolved: Done")
    said = ack_text(slack.command(f"ticket INC-{number} link ops-1", user=BOB))
    assert "not a Linear key" in said and "ENG-78" in said
    slack.close()


def test_linear_refuses_a_wrong_key_said_once_naming_it(
    linear_bot: Bot, recorder: SlackRecorder, linear_api: LinearStandIn
) -> None:
    slack = signed(linear_bot, recorder)
    number = open_incident(slack, "P3", "Slow exports")
    announced(recorder, number, "Slow exports")
    body = {"errors": [{"message": "Authentication required, not authenticated",
                        "extensions": {"type": "authentication_error", "code": "AUTHENTICATION_ERROR"}}]}  # fmt: skip
    linear_bot.settled()
    linear_api.fail(Fault(400, body=body))
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    line = wait_for(lambda: thread_lines(recorder, f"No ticket for INC-{number}"), what="the refusal")
    assert "LINEAR_API_KEY" in line[0]  # type: ignore[index]
    ack_text(slack.command(f"mitigate INC-{number}", user=BOB))
    linear_bot.settled()
    assert linear_api.marked(f"INC-{number}") == []  # a refusal is not tried again by itself
    assert len(thread_lines(recorder, f"No ticket for INC-{number}")) == 1
    assert "Making" in ack_text(slack.command(f"ticket INC-{number}", user=BOB))  # asked for: tried again
    wait_for(lambda: linear_api.marked(f"INC-{number}"), what="the Linear issue made on demand")
    slack.close()


def test_a_linear_action_item_is_assigned_to_the_user_of_its_owners_slack_email(
    linear_bot: Bot, recorder: SlackRecorder, linear_api: LinearStandIn
) -> None:
    linear_api.users["8f2c51a0-carol"] = "carol@acme.io"
    recorder.emails["U0CAROL"] = "carol@acme.io"
    slack = signed(linear_bot, recorder)
    try:
        number = open_incident(slack, "P3", "Webhooks delayed")
        ack_text(slack.command(f"ack INC-{number}", user=BOB))
        wait_for(lambda: linear_api.marked(f"INC-{number}"), what="the Linear issue")
        for owner in ("U0CAROL", "U0DAVE"):  # Dave: Slack shows no email
            ack_text(slack.command(f"action INC-{number} Queue webhooks durably <@{owner}>", user=BOB))
        made = [wait_for(lambda k=k: linear_api.marked(f"INC-{number}-A{k}"), what=f"item {k}'s issue")  # type: ignore[misc]
                for k in (1, 2)]  # fmt: skip
        assigned, unassigned = (found[0] for found in made)  # type: ignore[index]
        assert assigned["assigneeId"] == "8f2c51a0-carol" and "unassigned" not in assigned["description"]
        assert unassigned["assigneeId"] is None
        assert "Owner: Slack user U0DAVE (no tracker user of their email: unassigned)" in unassigned["description"]
    finally:
        slack.close()
        recorder.emails.clear()
        linear_api.users.clear()


def test_a_github_action_item_answered_late_is_made_once_and_pings_nobody(
    github_bot: Bot, recorder: SlackRecorder, github: GithubIssuesStandIn
) -> None:
    slack = signed(github_bot, recorder)
    number = open_incident(slack, "P2", "Search index stale")
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    incident = wait_for(lambda: github.marked(f"INC-{number}"), what="the incident's issue")
    assert isinstance(incident, list) and "chatops" in labels(incident[0])
    github_bot.settled(timeout=30)
    github.slow_next(3.0)  # made at once, answered after the bot's 2 s
    ack_text(slack.command(f"action INC-{number} Ask @alice about #12 and reindex nightly", user=BOB))
    found = wait_for(lambda: github.marked(f"INC-{number}-A1"), timeout=30, what="the action item's issue")
    assert isinstance(found, list)
    wait_for(lambda: thread_lines(recorder, f"Action item INC-{number}-A1 is GitHub ticket"), timeout=30,
             what="its ticket, said")  # fmt: skip
    github_bot.settled(timeout=30)
    assert len(github.marked(f"INC-{number}-A1")) == 1  # looked up by its marker among the bot's issues, not made again
    item = found[0]
    assert labels(item) == {"chatops"} and f"Follow-up of acme/ops#{incident[0]['number']}" in item["body"]
    assert "@alice" not in item["body"] and "#12" not in item["body"] and "@\u2060alice" in item["body"]
    slack.close()


def test_a_linear_error_answered_with_200_is_tried_again_and_an_action_item_is_related(
    linear_bot: Bot, recorder: SlackRecorder, linear_api: LinearStandIn
) -> None:
    slack = signed(linear_bot, recorder)
    number = open_incident(slack, "P3", "Exports time out")
    announced(recorder, number, "Exports time out")
    linear_bot.settled()
    failing = {"errors": [{"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    linear_api.fail(Fault(200, body=failing))  # Linear's GraphQL: HTTP 200 with an error that is its own
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    found = wait_for(lambda: linear_api.marked(f"INC-{number}"), timeout=30, what="the issue, made on a retry")
    assert isinstance(found, list) and len(found) == 1
    assert thread_lines(recorder, f"No ticket for INC-{number}") == []  # not taken for a refusal
    linear_bot.settled(timeout=30)
    ack_text(slack.command(f"action INC-{number} Stream exports", user=BOB))
    item = wait_for(lambda: linear_api.marked(f"INC-{number}-A1"), what="the action item's issue")
    assert isinstance(item, list)
    wait_for(lambda: (item[0]["id"], found[0]["id"]) in linear_api.relations, what="related to the incident's")
    slack.close()
