"""The core's pure pieces: durations, REDIS_URL, chat words, the timeline entry, the board, the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.board import Board, BoardFrozen, Periodic
from bot.core.clock import MovableClock
from bot.core.durations import format_duration, parse_duration
from bot.core.errors import UserError
from bot.core.redis_url import describe_url, parse_url
from bot.core.timeline import from_stream
from bot.core.words import Help, check_text, cluster_name, namespaces, object_name, split_options, verb


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("4h", 14400), ("1h30m", 5400), ("2d", 172800), (" 1H 5M ", 3900)]
)
def test_durations_read_as_the_config_writes_them(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "15", "m", "-5m", "0s", "1.5h", "15 minutes", "15m!"])
def test_what_is_not_a_duration_is_said_with_the_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|longer than zero"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(seconds=42), "42s"),
        (timedelta(minutes=15, seconds=3), "15m 3s"),
        (timedelta(hours=1, minutes=5, seconds=59), "1h 5m"),
        (timedelta(days=4, hours=13, minutes=2), "4d 13h"),
        (timedelta(seconds=-5), "0s"),
    ],
)
def test_durations_are_shown_in_at_most_two_units(delta: timedelta, shown: str) -> None:
    assert format_duration(delta) == shown


def test_redis_urls_of_each_deployment_are_taken_apart() -> None:
    assert parse_url("redis://localhost:6379/0").kind == "single"
    assert parse_url("rediss://cache:6380").tls
    cluster = parse_url("redis+cluster://user:p%40ss@10.0.0.1:7000,[::1]:7001")
    assert cluster.kind == "cluster" and cluster.hosts == (("10.0.0.1", 7000), ("::1", 7001))
    assert (cluster.username, cluster.password) == ("user", "p@ss")
    sentinel = parse_url("rediss+sentinel://:secret@s1:26379,s2:26379/mymaster/2")
    assert (sentinel.kind, sentinel.tls, sentinel.master, sentinel.db, sentinel.password) == (
        "sentinel",
        True,
        "mymaster",
        2,
        "secret",
    )


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://cache:6379", "must start with one of"),
        ("redis+cluster://", "at least one host:port"),
        ("redis+cluster://cache", "is not host:port"),
        ("redis+sentinel://s1:26379", "name the master"),
        ("redis+sentinel://s1:26379/mymaster/zero", "is not a database number"),
    ],
)
def test_a_bad_redis_url_says_what_is_wrong(url: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_url(url)


def test_a_redis_url_is_described_without_its_credentials() -> None:
    assert describe_url("redis://:hunter2@cache:6380/0") == "Redis at cache:6380"
    assert describe_url("redis+cluster://u:hunter2@a:7000,b:7001") == "Redis Cluster at a:7000,b:7001"
    assert "hunter2" not in describe_url("redis+sentinel://:hunter2@s:26379/m") and "Sentinel" in describe_url(
        "redis+sentinel://:hunter2@s:26379/m"
    )
    assert describe_url("unix:///run/redis.sock") == "Redis at /run/redis.sock"


def test_chat_words_are_read_one_way() -> None:
    assert verb([]) == ("help", [])
    assert verb(["LIST", "--all"]) == ("list", ["--all"])
    assert split_options(["a", "--ns=x", "b", "--partial"], {"ns", "partial"}, "usage") == (
        ["a", "b"],
        {"ns": "x", "partial": ""},
    )
    with pytest.raises(UserError, match=r"is not an option here\.\nusage"):
        split_options(["--server=evil"], {"ns"}, "usage")
    assert namespaces("prod,,kube-system") == ["prod", "kube-system"] and namespaces("") == []
    with pytest.raises(UserError):
        namespaces("../etc")
    assert object_name("api.v2", "backup", existing=True) == "api.v2"
    with pytest.raises(UserError):
        object_name("api.v2", "backup")  # a name the bot gives is a DNS-1123 label
    assert cluster_name("prod", ["prod", "stage"]) == "prod"
    with pytest.raises(UserError, match=r"is not a configured cluster\. Configured: `prod`"):
        cluster_name("$(reboot)", ["prod"])
    with pytest.raises(UserError, match="none \\(the bot uses the cluster it runs in\\)"):
        cluster_name("prod", [])
    assert Help("x").text == "x"


def test_free_text_refuses_control_characters_and_length() -> None:
    assert check_text("  fine  ", "title", 10) == "fine"
    assert check_text("two\nlines", "update", 20, multiline=True) == "two\nlines"
    for bad in ("a\x00b", "a\u202eb", "two\nlines"):
        with pytest.raises(UserError, match="control character"):
            check_text(bad, "title", 50)
    with pytest.raises(UserError, match="11 characters long; keep it to 10"):
        check_text("x" * 11, "title", 10)


def test_a_timeline_entry_reads_back_from_its_stream() -> None:
    entry = from_stream(b"1-0", {b"at": b"2026-12-01T08:00:00+01:00", b"actor": b"U0A", b"kind": b"acknowledged"})
    assert entry.at == datetime(2026, 12, 1, 7, 0, tzinfo=UTC) and entry.actor == "U0A" and entry.text == ""
    assert entry.entry_id == "1-0"
    assert from_stream("2-0", {}).at == datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    key: str
    order: int


def test_the_board_gives_each_surface_what_was_declared_in_order() -> None:
    async def nothing(now: datetime) -> None:
        return None

    board = Board()
    board.declare(Line("late", 50), Line("early", 10), Periodic("tick", timedelta(seconds=1), nothing))
    board.declare(Line("also-early", 10))
    assert [item.key for item in board.of(Line)] == ["early", "also-early", "late"]
    assert [p.key for p in board.of(Periodic)] == ["tick"]
    with pytest.raises(ValueError, match="two Line contributions are both called 'late'"):
        board.declare(Line("late", 1))
    board.freeze()
    with pytest.raises(BoardFrozen, match="declared after start-up: more"):
        board.declare(Line("more", 1))
    assert ("Periodic", "tick") in board.declared()


def test_the_movable_clock_only_moves_on() -> None:
    clock = MovableClock()
    before = clock()
    later = clock.advance(timedelta(hours=1))
    assert later - before >= timedelta(hours=1) and clock() >= later
    with pytest.raises(ValueError, match="only moves on"):
        clock.advance(timedelta(seconds=-1))
