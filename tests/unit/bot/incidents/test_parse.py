from __future__ import annotations

import pytest

from bot.core.severity import Severity
from bot.incidents import parse as p
from bot.incidents.model import Action, parse_ref


def test_open_and_lifecycle() -> None:
    assert p.parse("open p1 Checkout API returns 500s") == p.Open(Severity.P1, "Checkout API returns 500s")
    assert p.parse("open") == p.OpenModal()
    assert p.parse("ack INC-42") == p.Lifecycle(Action.ACKNOWLEDGE, 42, "")
    assert p.parse("resolve inc-7 rolled back") == p.Lifecycle(Action.RESOLVE, 7, "rolled back")
    assert p.parse("severity INC-3 P2 less impact") == p.ChangeSeverity(3, Severity.P2, "less impact")
    assert p.parse("LIST") == p.ListOpen()
    assert p.parse("") == p.Help()


def test_slack_entities_are_unescaped_once() -> None:
    assert p.parse("open P2 a &amp;&lt;b&gt;") == p.Open(Severity.P2, "a &<b>")


@pytest.mark.parametrize("text", ["INC-0", "INC--1", "INC-1234567890", "1e3", "INC-٣"])
def test_bad_refs(text: str) -> None:
    assert parse_ref(text) is None


def test_refs() -> None:
    assert [parse_ref(t) for t in ("INC-12", "inc12", "#12", "12")] == [12, 12, 12, 12]


@pytest.mark.parametrize("text", ["open P1 a\x00b", "open P1 \u200bzero width", "ack INC-1 \x1b[31mred"])
def test_control_and_format_characters_rejected(text: str) -> None:
    with pytest.raises(p.ParseError, match="control character"):
        p.parse(text)
