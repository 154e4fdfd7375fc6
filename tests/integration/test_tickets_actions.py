"""Action items and check-config with Jira, over the wire: the same running bot, Redis, recording Slack and Jira
stand-in as ``test_tickets`` (its fixtures, for this module's own instances)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis as redis_client

from tests.integration.test_tickets import (
    BOB,
    announced,
    bot,
    directory,
    issue_of,
    jira,
    jira_up,
    open_incident,
    recorder,
    redis_server,
    slack,
    thread_lines,
)
from tests.support import jira as jira_support
from tests.support.bot_process import SignedSlack, ack_text, run_cli
from tests.support.collab import collab_config, number_of, start
from tests.support.harness import Bot
from tests.support.jira import JiraStandIn
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.replies import reply_text, wait_reply
from tests.support.slack_recorder import SlackRecorder, blocks_of
from tests.support.standin import Fault

__all__ = ["bot", "directory", "jira", "jira_up", "recorder", "redis_server", "slack"]  # test_tickets' fixtures


def ask(slack: SignedSlack, recorder: SlackRecorder, text: str, phrase: str, command: str = "/incident") -> str:
    since = len(recorder.of("response_url"))
    ack_text(slack.command(text, command=command, user=BOB))
    return reply_text(wait_reply(recorder, since, phrase, timeout=40))


def test_an_action_item_becomes_a_linked_issue_listed_live_in_the_postmortem_and_the_weekly_report(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P2", "Connection pool exhausted")
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    incident_issue = issue_of(jira, number)
    due = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    said = ack_text(slack.command(f"action INC-{number} Alert on pool saturation <@U0CAROL> --due={due}", user=BOB))
    assert f"*INC-{number}-A1* recorded: Alert on pool saturation" in said and "Jira" in said
    found = wait_for(lambda: jira.labelled(f"chatops-INC-{number}-A1"), what="the action item's issue")
    assert isinstance(found, list) and len(found) == 1
    item = found[0]
    assert item.fields["issuetype"] == {"name": "Task"} and item.fields["summary"] == "Alert on pool saturation"
    # "relates to" the incident's: linked once the issue exists, a step of its own
    wait_for(lambda: item.links, what="the action item's link to the incident's issue")
    assert item.links == [incident_issue.key] and item.key in incident_issue.links
    wait_for(lambda: thread_lines(recorder, f"Action item INC-{number}-A1 is Jira ticket"), what="its ticket, said")
    ack_text(slack.command(f"action INC-{number} Write the runbook for pool resizing", user=BOB))
    wait_for(lambda: jira.labelled(f"chatops-INC-{number}-A2"), what="the second item's issue")

    listed = ask(slack, recorder, f"actions INC-{number}", f"Action items of INC-{number}")
    assert f"INC-{number}-A1" in listed and item.key in listed and "(To Do)" in listed and f"due {due}" in listed
    item.status = "Done"  # someone closes it in Jira
    listed = ask(slack, recorder, "actions --open", "Open action items")
    assert f"INC-{number}-A2" in listed and f"INC-{number}-A1" not in listed  # its live status: done
    mine = ask(slack, recorder, "actions --mine", "Your open action items")
    assert f"INC-{number}-A2" in mine  # recorded by Bob with no owner: Bob's

    since = len(recorder.of("upload"))
    ack_text(slack.command(f"postmortem INC-{number}", user=BOB))
    upload = wait_for(lambda: recorder.of("upload")[since:], what="the post-mortem upload")
    markdown = str(upload[0].params["content"])  # type: ignore[index]
    assert f"| Alert on pool saturation ({item.key}) — done | @U0CAROL | {due} |" in markdown
    assert "| Write the runbook for pool resizing (" in markdown and f"- **Ticket:** [{incident_issue.key}]" in markdown

    weekly = ask(slack, recorder, "weekly", "Weekly report", command="/report")
    assert "Action items" in weekly and "open, 0 overdue" in weekly and f"INC-{number}-A2" in weekly


def test_bad_action_items_are_refused_and_change_nothing(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn, redis_server: RedisServer
) -> None:
    number = open_incident(slack, "P4", "Slow dashboards")
    announced(recorder, number, "Slow dashboards")
    bot.ticked()  # the on-call's page at open is on the timeline before we count
    bot.settled()
    state = redis_client.Redis.from_url(redis_server.url, decode_responses=True)
    before = state.xlen(f"inc:{{{number}}}:timeline")
    for text, expected in (
        (f"action INC-{number}", "Say what is to be done"),
        (f"action INC-{number} Fix it --due=2020-01-01", "from today on"),
        (f"action INC-{number} Fix it --due=tomorrow", "is not a date"),
        (f"action INC-{number} Fix it --owner=bob", "is not an option"),
        (f"action INC-{number} Fix \u0007 it", "control character"),
        (f"action INC-{number} {'x' * 301}", "keep it to 300"),
        ("action Fix it", "Which incident?"),
        ("actions --everything", "/incident actions [INC-n | --mine | --open]"),
        (f"action INC-{number} done 9", "has no action item 9"),
    ):
        said = ack_text(slack.command(text, user=BOB))
        assert expected in said, (text, said)
    assert state.hlen(f"inc:{{{number}}}:actions") == 0
    assert state.xlen(f"inc:{{{number}}}:timeline") == before
    state.close()


def test_check_config_names_two_trackers_a_bad_project_and_a_missing_token(tmp_path: Path, jira: JiraStandIn) -> None:
    two = tmp_path / "two.yaml"
    two.write_text(
        "channels: {incidents: C0INC}\n"
        "tickets:\n"
        f'  jira: {{url: "{jira.url}", email: bot@acme.io, project: ops, priority: {{P1: Urgent}}}}\n'
        "  github: {repo: acme/ops}\n"
    )
    env = {"CHATOPS_CONFIG": str(two), "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}

    def check(path: Path, **more: str) -> tuple[int, str]:
        result = run_cli("check-config", env={**env, "CHATOPS_CONFIG": str(path), **more}, cwd=tmp_path)
        assert "Traceback" not in result.stderr
        return result.returncode, result.stderr + result.stdout

    code, said = check(two)
    assert code == 2 and "'ops' is not a Jira project key" in said
    two.write_text(two.read_text().replace("project: ops", "project: OPS"))
    code, said = check(two)
    assert code == 2 and "jira and github are both set: one tracker at a time" in said
    jira_only = tmp_path / "jira.yaml"
    jira_only.write_text("\n".join(line for line in two.read_text().splitlines() if "github" not in line) + "\n")
    jira_only.write_text(jira_only.read_text().replace("project: OPS", "project: NOPE"))
    code, said = check(jira_only)
    assert code == 2 and "JIRA_API_TOKEN: is required when the config has tickets.jira" in said
    calls = len(jira.requests)
    code, said = check(jira_only, JIRA_API_TOKEN="not-the-token")
    assert code == 2 and "401" in said and "JIRA_API_TOKEN" in said and "not-the-token" not in said
    code, said = check(jira_only, JIRA_API_TOKEN=jira_support.TOKEN)
    assert code == 2 and "tickets.jira.project: Jira shows no project NOPE" in said
    jira_only.write_text(jira_only.read_text().replace("project: NOPE", "project: OPS"))
    code, said = check(jira_only, JIRA_API_TOKEN=jira_support.TOKEN)
    assert code == 2 and "tickets.jira.priority: Jira has no priority Urgent" in said
    jira_only.write_text(jira_only.read_text().replace("P1: Urgent", "P1: Highest"))
    code, said = check(jira_only, JIRA_API_TOKEN=jira_support.TOKEN)
    assert code == 0 and "tickets: jira, made on acknowledged (the tracker answered)" in said, said
    assert len(jira.requests) > calls  # it asked Jira


def row(text: str, owner: str | None = None, due: str | None = None, n: int = 1) -> dict[str, Any]:
    values: dict[str, Any] = {f"text_{n}": {"value": {"type": "plain_text_input", "value": text}}}
    values[f"owner_{n}"] = {"value": {"type": "users_select", "selected_user": owner}}
    values[f"due_{n}"] = {"value": {"type": "datepicker", "selected_date": due}}
    return values


def test_the_announcements_form_records_several_action_items_each_a_ticket(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P3", "Certificate expired")
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    issue_of(jira, number)
    ack_text(slack.command(f"resolve INC-{number} renewed", user=BOB))
    updates = wait_for(lambda: [c for c in recorder.of("chat.update") if "ticket_action_items" in json.dumps(c.params)
                                and f"INC-{number}:" in json.dumps(c.params)], what="the Action items button")  # fmt: skip
    assert updates
    slack.click("ticket_action_items", str(number), user=BOB)
    opened = wait_for(lambda: [c for c in recorder.of("views.open") if "ticket_action_items_modal" in
                               json.dumps(c.params)], what="the form")  # fmt: skip
    assert isinstance(opened, list) and f'"private_metadata": "{number}"' in json.dumps(opened[-1].params.get("view"))

    due = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    bad = slack.submit_view("ticket_action_items_modal", str(number),
                            {**row("Renew automatically", due="2020-01-01"), **row("", owner="U0CAROL", n=2)}, user=BOB)  # fmt: skip
    errors = bad.json()["errors"]
    assert "from today on" in errors["due_1"] and "Say what is to be done" in errors["text_2"]
    assert jira.labelled(f"chatops-INC-{number}-A1") == []

    good = slack.submit_view("ticket_action_items_modal", str(number),
                             {**row("Renew automatically", "U0CAROL", due), **row("Alert 14 days ahead", n=2)}, user=BOB)  # fmt: skip
    assert good.status_code == 200 and not good.content
    for k in (1, 2):
        wait_for(lambda k=k: jira.labelled(f"chatops-INC-{number}-A{k}"), what=f"item {k}'s issue")  # type: ignore[misc]
    listed = ask(slack, recorder, f"actions INC-{number}", f"Action items of INC-{number}")
    assert "Renew automatically — <@U0CAROL>" in listed and f"due {due}" in listed and "Alert 14 days ahead" in listed


def test_an_owner_is_assigned_through_their_slack_email_and_otherwise_named_unassigned(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn, directory: Path
) -> None:
    carol = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Carol", "emailAddress": "carol@acme.io"}
    jira.users.append(carol)
    recorder.emails.update({"U0CAROL": "carol@acme.io", "U0ERIN": "erin@elsewhere.io"})  # Erin: not in Jira
    try:
        number = open_incident(slack, "P3", "Backups skipped")
        ack_text(slack.command(f"ack INC-{number}", user=BOB))
        issue_of(jira, number)
        for owner in ("U0CAROL", "U0DAVE", "U0ERIN"):  # Dave: Slack shows no email
            ack_text(slack.command(f"action INC-{number} Check the backup job <@{owner}>", user=BOB))
        made = [issue_of(jira, f"{number}-A{k}") for k in (1, 2, 3)]  # type: ignore[arg-type]
        assigned, no_email, no_match = made
        assert assigned.fields["assignee"] == {"accountId": carol["accountId"]}
        assert "unassigned" not in json.dumps(assigned.fields["description"])
        for issue, owner in ((no_email, "U0DAVE"), (no_match, "U0ERIN")):
            assert "assignee" not in issue.fields
            assert f"Owner: Slack user {owner} (no tracker user of their email: unassigned)" in json.dumps(
                issue.fields["description"]
            )
        searched = [r.param("query") for r, _ in jira.of("GET", "/rest/api/3/user/search")]
        assert "carol@acme.io" in searched and "erin@elsewhere.io" in searched
        bot.settled()
        logged = (directory / "tickets-a.log").read_text(errors="replace")
        assert "carol@acme.io" not in logged and "erin@elsewhere.io" not in logged
    finally:
        recorder.emails.clear()
        jira.users.clear()


def test_the_postmortem_draft_is_followed_by_the_action_items_button_opening_the_same_form(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P3", "Cron drift")
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    issue_of(jira, number)
    ack_text(slack.command(f"postmortem INC-{number}", user=BOB))
    uploads = wait_for(lambda: [c for c in recorder.of("files.completeUploadExternal")
                                if f"INC-{number}:" in json.dumps(c.params)] or None, what="the draft")  # fmt: skip
    posted = wait_for(lambda: [c for c in recorder.of("chat.postMessage") if "ticket_action_items" in
                               json.dumps(blocks_of(c)) and f"INC-{number}'s post-mortem" in str(c.params["text"])]
                      or None, what="the button under the draft")  # fmt: skip
    assert isinstance(uploads, list) and isinstance(posted, list) and len(posted) == 1
    assert posted[0].params.get("thread_ts") == uploads[0].params.get("thread_ts") is not None  # the draft's thread
    assert recorder.calls.index(posted[0]) > recorder.calls.index(uploads[0])  # right after the draft
    buttons = [e for b in blocks_of(posted[0]) if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("ticket_action_items", str(number))]
    since = len(recorder.of("views.open"))
    slack.click("ticket_action_items", str(number), user=BOB, thread_ts=str(posted[0].params["thread_ts"]))
    opened = wait_for(lambda: recorder.of("views.open")[since:] or None, what="the form")
    assert isinstance(opened, list)
    view = (
        json.loads(str(opened[0].params["view"]))
        if isinstance(opened[0].params["view"], str)
        else opened[0].params["view"]
    )
    assert view["callback_id"] == "ticket_action_items_modal" and view["private_metadata"] == str(number)


def test_forty_long_action_items_are_listed_within_slacks_limits(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P3", "Queue backlog")
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    issue_of(jira, number)
    for k in range(1, 41):  # 300 characters each (& shown as &amp;) and their links: past 12,000 in one message
        ack_text(slack.command(f"action INC-{number} {f'Drain {k:02d} & requeue '.ljust(300, 'x')}", user=BOB))
    wait_for(lambda: jira.labelled(f"chatops-INC-{number}-A40"), timeout=40, what="the 40th item's issue")
    bot.settled(timeout=30)
    since = len(recorder.of("response_url"))
    ack_text(slack.command(f"actions INC-{number}", user=BOB))
    reply = wait_reply(recorder, since, f"Action items of INC-{number}", timeout=40)
    listed = reply_text(reply)  # the stand-in refuses a message past Slack's limits (msg_blocks_too_long): not here
    assert f"INC-{number}-A1*" in listed and "more: `/incident actions INC-n`" in listed
    shown = sum(f"INC-{number}-A{k}*" in listed for k in range(1, 41))
    assert 20 < shown < 40 and f"…and {40 - shown} more" in listed
    assert sum(len(t) for t in listed.split("\n")) < 12_000


def test_a_refused_link_keeps_the_action_items_ticket_said_once_and_made_once(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, jira: JiraStandIn
) -> None:
    number = open_incident(slack, "P3", "Disk full on builders")
    ack_text(slack.command(f"ack INC-{number}", user=BOB))
    incident_issue = issue_of(jira, number)
    announced(recorder, number, incident_issue.key)  # kept on the incident
    said = ack_text(slack.command(f"ticket INC-{number}", user=BOB))
    assert f"<{jira.url}/browse/{incident_issue.key}|{incident_issue.key}>" in said  # a link, as everywhere else
    bot.settled()
    jira.slow_next(3.0)  # the item's issue is made at once, answered after the bot's 2 s: it is looked up, not made
    ack_text(slack.command(f"action INC-{number} Alert on builder disk usage", user=BOB))
    found = wait_for(lambda: jira.labelled(f"chatops-INC-{number}-A1"), what="the action item's issue")
    assert isinstance(found, list)
    gone = {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}
    jira.fail(Fault(0), Fault(404, body=gone))  # the retry's look-up answered; its "relates to" link refused
    line = wait_for(lambda: thread_lines(recorder, f"INC-{number}-A1's ticket"), what="the link's refusal, said")
    assert "is not linked" in line[0] and "404" in line[0] and found[0].key in line[0]  # type: ignore[index]
    bot.settled()
    assert len(jira.labelled(f"chatops-INC-{number}-A1")) == 1 and found[0].links == []  # made once, kept unlinked
    assert len(thread_lines(recorder, f"INC-{number}-A1's ticket")) == 1
    assert thread_lines(recorder, f"No ticket for action item INC-{number}-A1") == []
    listed = ask(slack, recorder, f"actions INC-{number}", f"Action items of INC-{number}")
    assert found[0].key in listed  # the item keeps its ticket


def test_a_private_incidents_action_items_are_listed_only_to_its_members_and_unnamed_in_the_weekly_report(
    tmp_path: Path,
) -> None:
    server, rec = RedisServer().start(), SlackRecorder().start()  # INC numbers of their own
    own = start(tmp_path, rec, server, collab_config(tmp_path / "private.yaml", private=True))
    client = SignedSlack(own.base_url, rec.response_url)

    def listing(text: str, user: str, phrase: str, command: str = "/incident") -> str:
        since = len(rec.of("response_url"))
        ack_text(client.command(text, command=command, user=user))
        return reply_text(wait_reply(rec, since, phrase, timeout=40))

    try:
        secret = number_of(ack_text(client.command("open P1 Card data exposure suspected", user="U0REPORTER")))
        rec.wait_for_calls("conversations.invite", 1)  # its private channel, the reporter in it
        public = number_of(ack_text(client.command("open P4 Slow status page", user="U0REPORTER")))
        for number, what in ((secret, "Rotate the card vault keys"), (public, "Cache the status page")):
            assert "recorded" in ack_text(client.command(f"action INC-{number} {what}", user="U0REPORTER"))
        for flag, phrase in (("--open", "Open action items"), ("--mine", "Your open action items")):
            outsider = listing(f"actions {flag}", "U0OUTSIDER", phrase)
            assert (flag == "--mine" or "Cache the status page" in outsider) and "card vault" not in outsider
        assert "Rotate the card vault keys" in listing("actions --open", "U0REPORTER", "Open action items")
        assert "Rotate the card vault keys" in listing("actions --open", "U0OPS", "Open action items")  # an operator
        done = ack_text(client.command(f"action INC-{secret} done 1", user="U0OUTSIDER"))
        assert "is private" in done and "card vault" not in done
        weekly = listing("weekly", "U0OUTSIDER", "Weekly report", command="/report")
        assert "2 open, 0 overdue" in weekly and "an item of a private incident" in weekly  # counted, not named
        assert "card vault" not in weekly and "Card data" not in weekly
    finally:
        client.close()
        own.terminate()
        rec.stop()
        server.cleanup()
