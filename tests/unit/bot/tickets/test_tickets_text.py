"""What people type, as it reaches a tracker (pure): it cannot pass for the bot's marker, and on GitHub it pings
nobody and links no issue; the weekly line names no private incident's item."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.tickets.github import quiet
from bot.tickets.model import ActionItem, marker_line
from bot.tickets.text import defused, ticket_link, weekly_line


def test_peoples_text_cannot_carry_a_marker() -> None:
    spoof = f"Fix it {marker_line('INC-7')} and <!--chatops-INC-7-A1-->"
    kept = defused(spoof)
    assert marker_line("INC-7") not in kept and "<!--" not in kept
    assert kept.replace("\u200b", "") == spoof  # shown as written


def test_github_text_pings_nobody_and_links_no_issue() -> None:
    said = quiet("ask @alice and @acme/sre about #12, acme/ops#3 and GH-4; mail bob@acme.io")
    assert "@alice" not in said and "@acme/sre" not in said and "#12" not in said and "#3" not in said
    assert "GH-4" not in said and "bob@acme.io" in said  # an email is no mention
    assert said.replace("\u2060", "") == "ask @alice and @acme/sre about #12, acme/ops#3 and GH-4; mail bob@acme.io"


def test_a_ticket_link_is_escaped_and_only_http() -> None:
    assert ticket_link("OPS-1", "https://acme.atlassian.net/browse/OPS-1") == (
        "<https://acme.atlassian.net/browse/OPS-1|OPS-1>"
    )
    assert ticket_link("a<b>", "javascript:alert(1)") == "a&lt;b&gt;"
    assert ticket_link("OPS-2", "https://x.io/a|b>c") == "<https://x.io/a%7Cb%3Ec|OPS-2>"


def test_the_weekly_line_counts_a_private_incidents_item_without_its_text() -> None:
    at = datetime(2026, 11, 2, tzinfo=UTC)
    items = [
        ActionItem(number=4, index=1, text="Rotate the card vault keys", by="U0A", at=at, due=date(2026, 11, 9)),
        ActionItem(number=5, index=1, text="Cache the status page", by="U0A", at=at.replace(day=20)),
    ]
    line = weekly_line("payments", items, date(2026, 12, 2), {4})
    assert "2 open, 1 overdue" in line and "2026-11-02" in line and "private incident" in line
    assert "card vault" not in line and "INC-4" not in line
    assert "Rotate the card vault keys" in weekly_line("payments", items, date(2026, 12, 2), set())
