"""The tickets domain's pure parts: the config section (and its documented example), the keys people type, the
action item commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.core.errors import UserError
from bot.core.settings.config import BotConfig
from bot.core.settings.tickets import Tickets
from bot.core.severity import Severity
from bot.tickets.model import ActionItem, is_done, parse_key, stage_of
from bot.tickets.parse import ListActions, parse_action, parse_actions

REPO = Path(__file__).resolve().parents[4]
TODAY = date(2026, 12, 2)


def test_the_documented_tickets_section_is_valid() -> None:
    text = (REPO / "docs" / "configuration.md").read_text()
    block = text[text.index("```yaml") + len("```yaml") : text.index("```", text.index("```yaml") + 7)]
    documented = yaml.safe_load(block)
    tickets = Tickets.model_validate(documented["tickets"])
    assert tickets.tracker == "jira" and tickets.jira is not None and tickets.jira.version == 3
    assert tickets.when(Severity.P1) == "opened" and tickets.when(Severity.P4) == "never"
    assert BotConfig.model_validate(documented).tickets == tickets


@pytest.mark.parametrize(
    ("section", "why"),
    [
        ({"jira": {"url": "https://a.atlassian.net", "project": "OPS"}, "github": {"repo": "a/b"}}, "both set"),
        ({"jira": {"url": "https://a.atlassian.net", "project": "ops"}}, "not a Jira project key"),
        ({"jira": {"url": "https://bot:secret@a.atlassian.net", "project": "OPS"}}, "credentials"),
        ({"jira": {"url": "https://a.atlassian.net", "project": "OPS", "custom_fields": {"team": 1}}}, "by id"),
        ({"jira": {"url": "https://a.atlassian.net", "project": "OPS", "transitions": {"fixed": "Done"}}}, "fixed"),
        ({"github": {"repo": "not a repo"}}, "not a GitHub repository"),
        ({"github": {"repo": "a/b", "labels": ["has space"]}}, "not labels"),
        ({"linear": {"team": "ops"}}, "not a Linear team key"),
        ({"create_on": "resolved"}, "create_on"),
        ({"retry_max": "1h"}, "between 1s and 5m"),
        ({"jira": {"url": "https://a.atlassian.net", "project": "OPS", "timeout": "5m"}}, "between 1s and 1m"),
    ],
)
def test_bad_sections_are_named(section: dict[str, object], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        Tickets.model_validate(section)


def test_data_center_without_an_email_speaks_v2() -> None:
    tickets = Tickets.model_validate({"jira": {"url": "https://jira.acme.io", "project": "OPS"}})
    assert tickets.jira is not None and tickets.jira.version == 2 and tickets.when(Severity.P2) == "acknowledged"


@pytest.mark.parametrize(
    ("tracker", "good", "bad"),
    [
        ("jira", ["OPS-1234", "A_B-1"], ["ops-1", "OPS-0", "OPS-", "O-1", "OPS-1;x", "../OPS-1", "X" * 200]),
        ("github", ["org/repo#56", "a-b/c.d_e#1"], ["org/repo", "org#1", "-org/r#1", "org/r#0", "o/r#1/../x"]),
        ("linear", ["ENG-78", "A-1"], ["eng-78", "ENG78", "ENGINEERING-1", "ENG-0"]),
    ],
)
def test_keys_from_chat_are_checked_against_the_trackers_form(tracker: str, good: list[str], bad: list[str]) -> None:
    for key in good:
        assert parse_key(tracker, key) == key
    for key in bad:
        with pytest.raises(UserError, match="is not a"):
            parse_key(tracker, key)


def test_stages_and_done_statuses() -> None:
    assert stage_of("resolved") == "resolved" and stage_of("reopened") == "reopened"
    assert stage_of("severity changed") is None and stage_of("status update") is None
    assert is_done("Done") and is_done(" closed ") and not is_done("In Progress") and not is_done(None)


def test_action_items_are_read_with_owner_and_due() -> None:
    new = parse_action(["INC-7", "Add", "an", "alert", "<@U0CAROL|carol>", "--due=2026-12-15"], TODAY, None)
    assert (new.number, new.text, new.owner, new.due) == (7, "Add an alert", "U0CAROL", date(2026, 12, 15))
    in_room = parse_action(["Write", "the", "runbook"], TODAY, 9)
    assert (in_room.number, in_room.owner, in_room.due) == (9, None, None)
    for args, why in (
        ([], "Which incident"),
        (["INC-7"], "Say what is to be done"),
        (["INC-7", "x", "--due=2026-12-01"], "from today on"),
        (["INC-7", "x", "--due=15.12.2026"], "is not a date"),
        (["INC-7", "x", "--due=2026-12-15", "--due=2026-12-16"], "One `--due`"),
        (["INC-7", "x", "--soon"], "not an option"),
        (["INC-7", "x\u202ey"], "control character"),
    ):
        with pytest.raises(UserError, match=why):
            parse_action(args, TODAY, None)


def test_action_listings() -> None:
    assert parse_actions([], None) == ListActions(open=True)
    assert parse_actions([], 4) == ListActions(number=4)
    assert parse_actions(["INC-3"], None) == ListActions(number=3)
    assert parse_actions(["--mine"], 4) == ListActions(mine=True)
    with pytest.raises(UserError, match="--mine"):
        parse_actions(["INC-3", "--open"], None)


def test_an_action_item_is_overdue_past_its_day_until_done() -> None:
    from datetime import UTC, datetime

    item = ActionItem(
        number=1, index=2, text="x", due=date(2026, 12, 1), by="U0BOB", at=datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert item.ref == "INC-1-A2" and item.overdue(TODAY) and not item.overdue(date(2026, 12, 1))
    assert not item.model_copy(update={"done_at": datetime.now(UTC)}).overdue(TODAY)
