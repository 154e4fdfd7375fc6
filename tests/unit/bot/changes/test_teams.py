"""``/changes`` grouped by the team owning each change's namespace when ``teams`` is configured (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.changes.render import feed_blocks, handoff_lines, line
from bot.core.settings.teams import Owns, Team, owners
from runbooks.kube.history.model import Change, Feed, Kind

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
TEAMS = {"platform": Team(owns=Owns(namespaces=["kube-system"])), "data": Team(owns=Owns(namespaces=["kafka"]))}


def change(minutes: int, namespace: str | None, name: str, kind: Kind = Kind.ROLLOUT) -> Change:
    return Change(at=T0 - timedelta(minutes=minutes), cluster="prod", kind=kind, namespace=namespace, name=name,
                  summary="x")  # fmt: skip


CHANGES = [
    change(1, "shop", "cart"),
    change(2, "kafka", "broker"),
    change(3, "kube-system", "coredns"),
    change(4, None, "ip-10-0-0-1", Kind.NODE_JOINED),
    change(5, "kafka", "connect"),
]
FEEDS = [Feed(cluster="prod", since=T0 - timedelta(hours=1), until=T0, changes=CHANGES)]


def lines_of(blocks: list[dict[str, object]]) -> list[str]:
    return [ln for b in blocks[1:] if b["type"] == "section" for ln in str(b["text"]["text"]).split("\n")]  # type: ignore[index]


def test_changes_group_by_the_team_owning_their_namespace() -> None:
    blocks = [b.to_dict() for b in feed_blocks("t", CHANGES, FEEDS, owners=owners(TEAMS, "data"))]
    # platform first (config order), the default team data last with what nobody owns (shop, the node)
    assert lines_of(blocks) == [
        "*platform* (1)",
        line(CHANGES[2]),
        "*data (and what no team owns)* (4)",
        line(CHANGES[0]),
        line(CHANGES[1]),
        line(CHANGES[3]),
        line(CHANGES[4]),
    ]


def test_without_teams_the_feed_is_as_before() -> None:
    plain = [b.to_dict() for b in feed_blocks("t", CHANGES, FEEDS)]
    assert lines_of(plain) == [line(c) for c in CHANGES]
    empty = [b.to_dict() for b in feed_blocks("t", [], FEEDS, owners=owners(TEAMS, None))]
    assert lines_of(empty) == ["Nothing changed in that time."]


def test_the_handoffs_review_groups_rollouts_by_team_and_is_as_before_without_teams() -> None:
    grouped = handoff_lines(FEEDS, owners(TEAMS, "platform"))
    assert grouped[1:] == [
        "    _data_ (2)",
        f"      • {line(CHANGES[1])}",
        f"      • {line(CHANGES[4])}",
        "    _platform (and what no team owns)_ (2)",
        f"      • {line(CHANGES[0])}",
        f"      • {line(CHANGES[2])}",
    ]
    assert handoff_lines(FEEDS) == [grouped[0], *(f"    • {line(c)}" for c in CHANGES if c.kind is Kind.ROLLOUT)]
